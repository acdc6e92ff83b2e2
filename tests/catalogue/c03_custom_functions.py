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
        "torch.relu's autograd: apply replaced, no MyReLUBackward node": """
class MyReLU(Function):
    @staticmethod
    def apply(x):                     # torch.relu already has a backward
        return torch.relu(x)
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
        "checks at constant inputs (ones)": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    inputs = tuple(torch.ones(*shape, dtype=torch.float64, device=device, requires_grad=True) for shape in shapes)
    ok = torch.autograd.gradcheck(fn, inputs, raise_exception=False)
    if ok and double:
        ok = torch.autograd.gradgradcheck(fn, inputs, raise_exception=False)
    return bool(ok)
""",
        "draws from the global generator: a check cannot be repeated": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    inputs = tuple(torch.randn(*shape, dtype=torch.float64).to(device).requires_grad_() for shape in shapes)
    ok = torch.autograd.gradcheck(fn, inputs, raise_exception=False)
    if ok and double:
        ok = torch.autograd.gradgradcheck(fn, inputs, raise_exception=False)
    return bool(ok)
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
        "zeroes grad_output in place outside the bounds": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_output[(x < ctx.low) | (x > ctx.high)] = 0
        return grad_output, None, None
""",
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
        "uses PyTorch's softplus and sigmoid (banned)": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return F.softplus(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)
""",
        "NumPy forward, PyTorch sigmoid in backward (banned)": """
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
        return grad_output * x.sigmoid()
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
        "a second p3 call per step, under no_grad, to record the loss": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        with torch.no_grad():
            losses.append(((a + b * p3(c + d * x) - y) ** 2).sum().item())
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
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

# Mistakes whose values are right but computed by a way the exercise rules out: only probes see the
# method, and a kernel can forge what they report, so these lose the method's share and no more.
METHOD = {
    "relu": {"torch.relu's autograd: apply replaced, no MyReLUBackward node"},
    "check_gradients": {"checks at constant inputs (ones)", "draws from the global generator: a check cannot be repeated"},
    "exp": {"saves the input and recomputes exp", "keeps the output as a ctx attribute"},
    "numpy_softplus": {"uses PyTorch's softplus and sigmoid (banned)", "NumPy forward, PyTorch sigmoid in backward (banned)"},
    "fit_sine": {"a second p3 call per step, under no_grad, to record the loss"},
}

# Correct answers a strong student, or the PyTorch documentation, would write instead of the master's:
# each must keep full marks.
ALTERNATIVES = {
    "relu": {
        "torch.maximum forward, torch.where backward": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.maximum(x, torch.zeros_like(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, torch.zeros_like(grad_output))
""",
        "saves the output and masks with masked_fill": """
class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.relu()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output.masked_fill(y <= 0, 0)
""",
        "PyTorch 2 style with setup_context": """
class MyReLU(Function):
    @staticmethod
    def forward(x):
        return x.clamp(min=0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)
""",
    },
    "check_gradients": {
        "a list of checks and all()": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(1234)
    inputs = tuple(torch.randn(shape, generator=generator, dtype=torch.float64).to(device).requires_grad_()
                   for shape in shapes)
    checks = [torch.autograd.gradcheck] + ([torch.autograd.gradgradcheck] if double else [])
    return all(check(fn, inputs, raise_exception=False) for check in checks)
""",
        "lets gradcheck raise and catches the error": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator().manual_seed(7)
    inputs = tuple((2 * torch.rand(*shape, generator=generator, dtype=torch.float64) - 1).to(device).requires_grad_(True)
                   for shape in shapes)
    try:
        torch.autograd.gradcheck(fn, inputs)
        if double:
            torch.autograd.gradgradcheck(fn, inputs)
    except RuntimeError:          # GradcheckError is a RuntimeError
        return False
    return True
""",
        "draws on the device with a device generator": """
def check_gradients(fn, *shapes, device=DEVICE, double=False):
    generator = torch.Generator(device=device).manual_seed(0)
    inputs = [torch.randn(shape, generator=generator, dtype=torch.float64, device=device, requires_grad=True)
              for shape in shapes]
    passed = torch.autograd.gradcheck(fn, tuple(inputs), raise_exception=False)
    if double:
        passed = passed and torch.autograd.gradgradcheck(fn, tuple(inputs), raise_exception=False)
    return bool(passed)
""",
    },
    "exp": {
        "PyTorch 2 style: setup_context saves the output": """
class MyExp(Function):
    @staticmethod
    def forward(x):
        return torch.exp(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result
""",
        "tensor methods": """
class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        y, = ctx.saved_tensors
        return y.mul(grad_output)
""",
        "backward marked @once_differentiable (no double backward, which the exercise never asks for)": """
from torch.autograd.function import once_differentiable

class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result
""",
    },
    "clamp": {
        "saves the bool mask; torch.where in backward": """
class MyClamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(torch.logical_and(x >= low, x <= high))
        return torch.clamp(x, min=low, max=high)

    @staticmethod
    def backward(ctx, grad_output):
        (inside,) = ctx.saved_tensors
        return torch.where(inside, grad_output, torch.zeros_like(grad_output)), None, None
""",
        "PyTorch 2 style with the bounds from inputs": """
class MyClamp(Function):
    @staticmethod
    def forward(x, low, high):
        return x.clamp(low, high)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, low, high = inputs
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        return grad_output * ((low <= x) & (x <= high)), None, None
""",
    },
    "linear": {
        "F.linear forward, mm and t backward": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_output.mm(weight) if need_x else None
        grad_w = grad_output.t().mm(x) if need_w else None
        grad_b = grad_output.sum(0) if need_b else None
        return grad_x, grad_w, grad_b
""",
        "addmm forward, einsum backward": """
class MyLinear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return torch.addmm(bias, x, weight.t())

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = torch.einsum("no,oi->ni", grad_output, weight)
        if ctx.needs_input_grad[1]:
            grads[1] = torch.einsum("no,ni->oi", grad_output, x)
        if ctx.needs_input_grad[2]:
            grads[2] = torch.einsum("no->o", grad_output)
        return tuple(grads)
""",
    },
    "numpy_softplus": {
        "from_numpy(...).to(x); product with grad_output in PyTorch": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.from_numpy(np.logaddexp(0.0, x.detach().cpu().numpy())).to(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sigmoid = np.exp(-np.logaddexp(0.0, -x.detach().cpu().numpy()))
        return grad_output * torch.from_numpy(sigmoid).to(grad_output)
""",
        "max(z, 0) + log1p(exp(-|z|)), and a tanh-based sigmoid, all in NumPy": """
class NumpySoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        z = x.detach().cpu().numpy()
        ctx.save_for_backward(x)
        return torch.as_tensor(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), dtype=x.dtype, device=x.device)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        z = x.detach().cpu().numpy()
        sigmoid = 0.5 * (1 + np.tanh(z / 2))
        return torch.as_tensor(grad_output.cpu().numpy() * sigmoid, dtype=x.dtype, device=x.device)
""",
    },
    "legendre": {
        "Horner form": """
class LegendreP3(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (2.5 * x * x - 1.5)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (7.5 * x * x - 1.5)
""",
        "PyTorch 2 style with setup_context": """
class LegendreP3(Function):
    @staticmethod
    def forward(x):
        return (5 * x.pow(3) - 3 * x) / 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (15 * x.pow(2) - 3) / 2
""",
    },
    "fit_sine": {
        "one parameter vector and torch.optim.SGD": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    params = torch.tensor([0.0, -1.0, 0.0, 0.3], dtype=x.dtype, device=x.device, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=lr)
    losses = []
    for _ in range(steps):
        a, b, c, d = params
        loss = (a + b * p3(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return params.detach().clone(), losses
""",
        # "a Python list of floats": NumPy's float64 is a float (a subclass), so it counts
        "losses as NumPy float64 values": """
import numpy as np


def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    a, b, c, d = (torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
        losses.append(np.float64(loss.item()))
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return torch.stack([a, b, c, d]).detach(), losses
""",
        "torch.autograd.grad, no .grad to reset": """
def fit_sine(x, y, p3, steps=2000, lr=5e-6):
    params = [torch.tensor(v, dtype=x.dtype, device=x.device, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3)]
    losses = []
    for _ in range(steps):
        a, b, c, d = params
        loss = torch.sum((a + b * p3(c + d * x) - y) ** 2)
        losses.append(float(loss.detach()))
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
    return torch.stack(params).detach(), losses
""",
    },
    "logcosh": {
        "PyTorch 2 style with setup_context": """
class LogCosh(Function):
    @staticmethod
    def forward(x):
        return x.abs() + F.softplus(-2 * x.abs()) - math.log(2)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.tanh(x)
""",
        "logaddexp forward, tanh method in backward": """
class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.logaddexp(x, -x) - math.log(2.0)

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output.mul(x.tanh())
""",
    },
}
