"""Wrong answers a learner plausibly writes for 03_custom_functions; each must lose the points."""
NOTEBOOK = "03_custom_functions"

MISTAKES = {
    "relu": {
        "modifies grad_output in place": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_output[x <= 0] = 0
        return grad_output
""",
        "gradient 1 at x == 0 (x >= 0)": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[x < 0] = 0
        return grad_input
""",
        "returns the mask, forgetting grad_output": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (x > 0).to(grad_output.dtype)
""",
        "clamps the input in place": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(grad_output.dtype)
""",
    },
    "check_gradients": {
        "gradcheck in float32": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(0)
    inputs = tuple(torch.randn(*shape, generator=generator).to(device).requires_grad_() for shape in shapes)
    ok = torch.autograd.gradcheck(fn, inputs, raise_exception=False)
    if ok and double:
        ok = torch.autograd.gradgradcheck(fn, inputs, raise_exception=False)
    return bool(ok)
""",
        "lets gradcheck raise instead of returning False": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(0)
    inputs = tuple(torch.randn(*shape, generator=generator, dtype=torch.float64).to(device).requires_grad_()
                   for shape in shapes)
    ok = torch.autograd.gradcheck(fn, inputs)
    if ok and double:
        ok = torch.autograd.gradgradcheck(fn, inputs)
    return bool(ok)
""",
        "inputs do not require grad": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(0)
    inputs = tuple(torch.randn(*shape, generator=generator, dtype=torch.float64).to(device) for shape in shapes)
    ok = torch.autograd.gradcheck(fn, inputs, raise_exception=False)
    if ok and double:
        ok = torch.autograd.gradgradcheck(fn, inputs, raise_exception=False)
    return bool(ok)
""",
        "ignores double=True": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(0)
    inputs = tuple(torch.randn(*shape, generator=generator, dtype=torch.float64).to(device).requires_grad_()
                   for shape in shapes)
    return bool(torch.autograd.gradcheck(fn, inputs, raise_exception=False))
""",
        "always True": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    return True
""",
    },
    "exp": {
        "saves the input and recomputes exp": """
class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.exp(x)
""",
        "keeps the output as a ctx attribute": """
class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.result = torch.exp(x)
        return ctx.result

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.result
""",
        "forgets grad_output": """
class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return result
""",
    },
    "clamp": {
        "returns one gradient, no None for the bounds": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x >= ctx.low) & (x <= ctx.high)
        return grad_output * inside.to(grad_output.dtype)
""",
        "bounds excluded (low < x < high)": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x > ctx.low) & (x < ctx.high)
        return grad_output * inside.to(grad_output.dtype), None, None
""",
        "saves the Python bounds with save_for_backward": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad_output):
        x, low, high = ctx.saved_tensors
        inside = (x >= low) & (x <= high)
        return grad_output * inside.to(grad_output.dtype), None, None
""",
        "hard-codes the bounds -1 and 1": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        return x.clamp(-1.0, 1.0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x >= -1.0) & (x <= 1.0)
        return grad_output * inside.to(grad_output.dtype), None, None
""",
    },
    "linear": {
        "ignores needs_input_grad": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output @ weight, grad_output.T @ x, grad_output.sum(dim=0)
""",
        "bias gradient not summed over the batch": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.T @ x
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output
        return grad_x, grad_weight, grad_bias
""",
        "weight gradient transposed (x.T @ grad_output)": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = x.T @ grad_output
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(dim=0)
        return grad_x, grad_weight, grad_bias
""",
        "bias gradient averaged over the batch": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.T @ x
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.mean(dim=0)
        return grad_x, grad_weight, grad_bias
""",
    },
    "numpy_softplus": {
        "literal log(1 + exp(x)) overflows": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        values = np.log(1 + np.exp(x.detach().cpu().numpy()))
        return torch.as_tensor(values).to(device=x.device, dtype=x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid = 1 / (1 + np.exp(-x.detach().cpu().numpy()))
        grad = grad_output.detach().cpu().numpy() * sigmoid
        return torch.as_tensor(grad).to(device=x.device, dtype=x.dtype)
""",
        "backward returns a NumPy array": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        values = np.logaddexp(0, x.detach().cpu().numpy())
        return torch.as_tensor(values).to(device=x.device, dtype=x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid = np.exp(-np.logaddexp(0, -x.detach().cpu().numpy()))
        return grad_output.detach().cpu().numpy() * sigmoid
""",
        "computes in float64 and never casts back": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        values = np.logaddexp(0.0, x.detach().cpu().numpy().astype(np.float64))
        return torch.from_numpy(values).to(x.device)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid = np.exp(-np.logaddexp(0.0, -x.detach().cpu().numpy().astype(np.float64)))
        grad = grad_output.detach().cpu().numpy() * sigmoid
        return torch.from_numpy(grad).to(x.device)
""",
        "forgets grad_output in backward": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        values = np.logaddexp(0, x.detach().cpu().numpy())
        return torch.as_tensor(values).to(device=x.device, dtype=x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid = np.exp(-np.logaddexp(0, -x.detach().cpu().numpy()))
        return torch.as_tensor(sigmoid).to(device=x.device, dtype=x.dtype)
""",
    },
    "legendre": {
        "derivative without the factor 1/2 (15x^2 - 3)": """
class LegendreP3(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (15 * x ** 2 - 3)
""",
        "forgets grad_output": """
class LegendreP3(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 1.5 * (5 * x ** 2 - 1)
""",
        "modifies grad_output in place": """
class LegendreP3(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.mul_(1.5 * (5 * x ** 2 - 1))
""",
    },
    "fit_sine": {
        "never resets the gradients": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "p = p - lr * p.grad makes non-leaf parameters": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        a, b, c, d = (p - lr * p.grad for p in (a, b, c, d))
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "mean instead of sum of squared errors": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "records the loss tensor instead of loss.item()": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(loss)
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "random start instead of (0, -1, 0, 0.3)": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.randn((), dtype=x.dtype, device=x.device, requires_grad=True) for _ in range(4))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "float32 parameters whatever the data": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, device=x.device, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return torch.stack([a, b, c, d]).detach(), losses
""",
    },
    "logcosh": {
        "stashes tanh(x) on ctx": """
class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.tanh = torch.tanh(x)
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.tanh
""",
        "saves the intermediate tanh(x) with save_for_backward": """
class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(torch.tanh(x))
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2)

    @staticmethod
    def backward(ctx, grad_output):
        (tanh,) = ctx.saved_tensors
        return grad_output * tanh
""",
        "backward marked once_differentiable": """
class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.tanh(x)
""",
        "second derivative used as the first (1 - tanh^2)": """
class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (1 - torch.tanh(x) ** 2)
""",
    },
}
