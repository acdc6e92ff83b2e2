"""Wrong answers a learner plausibly writes for 02_autograd; each must lose the points."""
NOTEBOOK = "02_autograd"

MISTAKES = {
    "leaves_of": {
        "looks only one level down": """
def leaves_of(y):
    if y.grad_fn is None:
        return [y] if y.requires_grad else []
    return [fn.variable for fn, _ in y.grad_fn.next_functions if fn is not None and hasattr(fn, "variable")]
""",
        "no visited set: a leaf reached twice is listed twice": """
def leaves_of(y):
    if not y.requires_grad:
        return []
    if y.grad_fn is None:
        return [y]
    found, stack = [], [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if hasattr(node, "variable"):
            found.append(node.variable)
        stack.extend(child for child, _ in node.next_functions)
    return found
""",
        "deduplicates with `tensor in list` (element-wise ==)": """
def leaves_of(y):
    if not y.requires_grad:
        return []
    if y.grad_fn is None:
        return [y]
    found, stack = [], [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if hasattr(node, "variable") and node.variable not in found:
            found.append(node.variable)
        stack.extend(child for child, _ in node.next_functions)
    return found
""",
        "forgets that the output may itself be a leaf": """
def leaves_of(y):
    found, seen, stack = [], set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):
            found.append(node.variable)
        stack.extend(child for child, _ in node.next_functions)
    return found
""",
    },
    "grad_of_square": {
        "autograd runs beside a hand-written 2 * x, which is what it returns": """
def grad_of_square(x):
    xg = x.detach().clone().requires_grad_(True)
    (xg ** 2).sum().backward()
    return 2 * x
""",
        "writes the derivative by hand (autograd never runs)": """
def grad_of_square(x):
    return 2 * x
""",
        "switches requires_grad on the caller's x": """
def grad_of_square(x):
    x.requires_grad_(True)
    (x ** 2).sum().backward()
    return x.grad
""",
        "backward on the mean (divides by the number of elements)": """
def grad_of_square(x):
    xg = x.detach().clone().requires_grad_(True)
    (xg ** 2).mean().backward()
    return xg.grad
""",
        "returns the square instead of its derivative": """
def grad_of_square(x):
    xg = x.detach().clone().requires_grad_(True)
    y = xg ** 2
    y.sum().backward()
    return y.detach()
""",
    },
    "backward_q": {
        "calls backward, then overwrites the gradients with formulas": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    Q.sum().backward()
    with torch.no_grad():
        a.grad = 9 * a ** 2
        b.grad = -2 * b
    return Q
""",
        "backward on the mean (gradients divided by the size)": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    Q.mean().backward()
    return Q
""",
        "backward() on a non-scalar without a gradient": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    Q.backward()
    return Q
""",
        "returns a detached Q": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    Q.backward(torch.ones_like(Q))
    return Q.detach()
""",
        "hand-written gradients instead of backward": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    with torch.no_grad():
        a.grad = 9 * a ** 2
        b.grad = -2 * b
    return Q
""",
        "sign of the b term flipped": """
def backward_q(a, b):
    Q = 3 * a ** 3 + b ** 2
    Q.backward(torch.ones_like(Q))
    return Q
""",
    },
    "jacobian_by_rows": {
        "forgets to zero the gradient between rows": """
def jacobian_by_rows(f, x):
    xg = x.detach().requires_grad_(True)
    y = f(xg)
    rows = []
    for i in range(y.shape[0]):
        y[i].backward(retain_graph=True)
        rows.append(xg.grad.clone())
    return torch.stack(rows)
""",
        "no retain_graph: the second backward fails": """
def jacobian_by_rows(f, x):
    xg = x.detach().requires_grad_(True)
    y = f(xg)
    rows = []
    for i in range(y.shape[0]):
        y[i].backward()
        rows.append(xg.grad.clone())
        xg.grad = None
    return torch.stack(rows)
""",
        "stores .grad itself, then zeroes it in place": """
def jacobian_by_rows(f, x):
    xg = x.detach().requires_grad_(True)
    y = f(xg)
    rows = []
    for i in range(y.shape[0]):
        y[i].backward(retain_graph=True)
        rows.append(xg.grad)
        xg.grad.zero_()
    return torch.stack(rows)
""",
        "calls f again for every row instead of retaining the graph": """
def jacobian_by_rows(f, x):
    xg = x.detach().requires_grad_(True)
    rows = []
    m = f(xg).shape[0]
    for i in range(m):
        f(xg)[i].backward()
        rows.append(xg.grad.clone())
        xg.grad = None
    return torch.stack(rows)
""",
        "the banned torch.autograd.functional.jacobian": """
def jacobian_by_rows(f, x):
    return torch.autograd.functional.jacobian(f, x.detach())
""",
        "the banned torch.func.jacrev, imported under another name": """
from torch.func import jacrev as rows_of

def jacobian_by_rows(f, x):
    return rows_of(f)(x.detach())
""",
        "switches requires_grad on the caller's tensor": """
def jacobian_by_rows(f, x):
    x.requires_grad_(True)
    y = f(x)
    rows = []
    for i in range(y.shape[0]):
        (row,) = torch.autograd.grad(y[i], x, retain_graph=True)
        rows.append(row)
    return torch.stack(rows)
""",
    },
    "value_and_grad": {
        "backward on the caller's x": """
def value_and_grad(f, x):
    x.requires_grad_(True)
    value = f(x)
    value.backward()
    return value.detach(), x.grad
""",
        "backward on a copy still fills the weights' .grad": """
def value_and_grad(f, x):
    xg = x.detach().requires_grad_(True)
    value = f(xg)
    value.backward()
    return value.detach(), xg.grad
""",
        "returns the value still attached to the graph": """
def value_and_grad(f, x):
    xg = x.detach().requires_grad_(True)
    value = f(xg)
    (grad,) = torch.autograd.grad(value, xg)
    return value, grad
""",
        "create_graph=True: the gradient still requires grad": """
def value_and_grad(f, x):
    xg = x.detach().requires_grad_(True)
    value = f(xg)
    (grad,) = torch.autograd.grad(value, xg, create_graph=True)
    return value.detach(), grad
""",
    },
    "second_derivative": {
        "switches requires_grad on the caller's x": """
def second_derivative(f, x):
    x.requires_grad_(True)
    (first,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), x)
    return second
""",
        "no create_graph on the first derivative": """
def second_derivative(f, x):
    xg = x.detach().requires_grad_(True)
    (first,) = torch.autograd.grad(f(xg).sum(), xg)
    (second,) = torch.autograd.grad(first.sum(), xg)
    return second
""",
        "returns the first derivative": """
def second_derivative(f, x):
    xg = x.detach().requires_grad_(True)
    (first,) = torch.autograd.grad(f(xg).sum(), xg, create_graph=True)
    return first.detach()
""",
        "two backward calls: .grad holds f' + f''": """
def second_derivative(f, x):
    xg = x.detach().requires_grad_(True)
    f(xg).sum().backward(create_graph=True)
    xg.grad.sum().backward()
    return xg.grad.detach()
""",
    },
    "mean_loss": {
        "total += loss keeps the graph and returns a tensor": """
def mean_loss(model, loss_fn, batches):
    total = 0
    for x, y in batches:
        total += loss_fn(model(x), y)
    return total / len(batches)
""",
        "keeps loss.data[0]": """
def mean_loss(model, loss_fn, batches):
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).data[0]
    return total / len(batches)
""",
        "keeps volatile=True instead of no_grad": """
def mean_loss(model, loss_fn, batches):
    from torch.autograd import Variable
    total = 0.0
    for x, y in batches:
        x, y = Variable(x, volatile=True), Variable(y, volatile=True)
        total += loss_fn(model(x), y).item()
    return total / len(batches)
""",
        "switches gradients off globally and never back on": """
def mean_loss(model, loss_fn, batches):
    torch.set_grad_enabled(False)
    total = 0.0
    for x, y in batches:
        total += loss_fn(model(x), y).item()
    return total / len(batches)
""",
        "returns the sum instead of the mean": """
def mean_loss(model, loss_fn, batches):
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).item()
    return total
""",
    },
    "straight_through": {
        "plain round: the gradient is zero": """
def round_straight_through(x):
    return torch.round(x)
""",
        "detaches the whole result": """
def round_straight_through(x):
    return torch.round(x).detach()
""",
        "a new leaf that is cut off from x": """
def round_straight_through(x):
    return torch.round(x.detach()).requires_grad_()
""",
        "detaches the wrong term": """
def round_straight_through(x):
    return x.detach() + (torch.round(x) - x)
""",
    },
    "clip_grad_hook": {
        "clamps the gradient in place (clamp_) and returns it": """
def clip_grad_hook(t, limit):
    return t.register_hook(lambda grad: grad.clamp_(-limit, limit))
""",
        "the hook forgets to return the clamped gradient": """
def clip_grad_hook(t, limit):
    def hook(grad):
        grad.clamp(-limit, limit)
    return t.register_hook(hook)
""",
        "clamps only from above": """
def clip_grad_hook(t, limit):
    return t.register_hook(lambda grad: grad.clamp(max=limit))
""",
        "rescales the norm instead of clamping each element": """
def clip_grad_hook(t, limit):
    return t.register_hook(lambda grad: grad * min(1.0, limit / grad.norm().item()))
""",
        "does not return the handle": """
def clip_grad_hook(t, limit):
    t.register_hook(lambda grad: grad.clamp(-limit, limit))
""",
    },
    "sgd_step": {
        "rebinds the loop variable: w = w - lr * w.grad": """
def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p = p - lr * p.grad
            p.grad = None
""",
        "replaces the list entries with new (non-leaf) tensors": """
def sgd_step(params, lr):
    for i, p in enumerate(params):
        if p.grad is not None:
            params[i] = p - lr * p.grad
""",
        "in-place update outside no_grad": """
def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p -= lr * p.grad
            p.grad = None
""",
        "forgets to reset the gradients": """
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
""",
        "updates through .data (autograd cannot see it)": """
def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p.data -= lr * p.grad.data
            p.grad = None
""",
        "does not skip parameters without a gradient": """
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
""",
    },
}

# Mistakes whose values are right but computed by the way the exercise rules out (derivatives by
# hand where autograd is asked for, a banned shortcut, extra calls of f, recording left on, .data):
# they lose only the method's share (coursekit.checks.METHOD_SHARE); every other mistake earns nothing.
METHOD = {
    "grad_of_square": {
        "autograd runs beside a hand-written 2 * x, which is what it returns",
        "writes the derivative by hand (autograd never runs)",
    },
    "backward_q": {"calls backward, then overwrites the gradients with formulas", "hand-written gradients instead of backward"},
    "jacobian_by_rows": {
        "calls f again for every row instead of retaining the graph",
        "the banned torch.autograd.functional.jacobian",
        "the banned torch.func.jacrev, imported under another name",
    },
    "mean_loss": {"keeps volatile=True instead of no_grad"},
    "sgd_step": {"updates through .data (autograd cannot see it)"},
}

# Correct answers a strong student or the PyTorch documentation would write instead of the
# master's; each must keep full marks.
ALTERNATIVES = {
    "grad_of_square": {
        "torch.autograd.grad on a leaf copy": """
def grad_of_square(x):
    xg = x.detach().requires_grad_()
    (grad,) = torch.autograd.grad(xg.pow(2).sum(), xg)
    return grad
""",
        "backward with a gradient of ones on the non-scalar square": """
def grad_of_square(x):
    xg = x.clone().requires_grad_(True)
    y = xg * xg
    y.backward(gradient=torch.ones_like(y))
    return xg.grad
""",
        "torch.func.grad": """
def grad_of_square(x):
    return torch.func.grad(lambda t: (t ** 2).sum())(x)
""",
        "forward mode: torch.func.jvp with a tangent of ones": """
def grad_of_square(x):
    _, derivative = torch.func.jvp(lambda t: t ** 2, (x,), (torch.ones_like(x),))
    return derivative
""",
        "torch.func.vjp with a cotangent of ones": """
def grad_of_square(x):
    _, pullback = torch.func.vjp(lambda t: t ** 2, x)
    return pullback(torch.ones_like(x))[0]
""",
    },
    "leaves_of": {
        "recursive walk with a set of visited nodes": """
def leaves_of(y):
    if not y.requires_grad:
        return []
    if y.is_leaf:
        return [y]
    found, seen = [], set()

    def visit(node):
        if node is None or node in seen:
            return
        seen.add(node)
        if hasattr(node, "variable"):
            found.append(node.variable)
        for child, _ in node.next_functions:
            visit(child)

    visit(y.grad_fn)
    return found
""",
        "breadth-first with a deque, deduplicated by id": """
from collections import deque

def leaves_of(y):
    if not y.requires_grad:
        return []
    if y.grad_fn is None:
        return [y]
    leaves, seen_ids, queue = {}, set(), deque([y.grad_fn])
    while queue:
        node = queue.popleft()
        if node is None or id(node) in seen_ids:
            continue
        seen_ids.add(id(node))
        leaf = getattr(node, "variable", None)
        if leaf is not None:
            leaves[id(leaf)] = leaf
        queue.extend(child for child, _ in node.next_functions)
    return list(leaves.values())
""",
    },
    "backward_q": {
        "sum, then backward()": """
def backward_q(a, b):
    Q = 3 * a ** 3 - b ** 2
    Q.sum().backward()
    return Q
""",
        "torch.autograd.backward with explicit grad_tensors": """
def backward_q(a, b):
    Q = 3 * a.pow(3) - b.pow(2)
    torch.autograd.backward(Q, grad_tensors=torch.ones_like(Q))
    return Q
""",
    },
    "jacobian_by_rows": {
        "torch.autograd.grad per row": """
def jacobian_by_rows(f, x):
    xg = x.detach().clone().requires_grad_(True)
    y = f(xg)
    rows = [torch.autograd.grad(y[i], xg, retain_graph=True)[0] for i in range(y.numel())]
    return torch.stack(rows)
""",
        "one-hot vectors as backward's gradient": """
def jacobian_by_rows(f, x):
    xg = x.detach().requires_grad_(True)
    y = f(xg)
    J = torch.zeros(y.numel(), x.numel(), dtype=x.dtype, device=x.device)
    for i, e_i in enumerate(torch.eye(y.numel(), dtype=y.dtype, device=y.device)):
        xg.grad = None
        y.backward(gradient=e_i, retain_graph=True)
        J[i] = xg.grad
    return J
""",
    },
    "value_and_grad": {
        "clone().detach() as the leaf copy, keyword arguments": """
def value_and_grad(f, x):
    leaf = x.clone().detach().requires_grad_()
    value = f(leaf)
    grad = torch.autograd.grad(outputs=value, inputs=leaf)[0]
    return value.detach(), grad.detach()
""",
        "enable_grad around autograd.grad with lists": """
def value_and_grad(f, x):
    xg = x.detach().requires_grad_(True)
    with torch.enable_grad():
        value = f(xg)
        (grad,) = torch.autograd.grad([value], [xg])
    return value.detach().clone(), grad
""",
    },
    "second_derivative": {
        "autograd.grad with grad_outputs of ones": """
def second_derivative(f, x):
    xg = x.detach().requires_grad_(True)
    y = f(xg)
    (first,) = torch.autograd.grad(y, xg, grad_outputs=torch.ones_like(y), create_graph=True)
    (second,) = torch.autograd.grad(first, xg, grad_outputs=torch.ones_like(first))
    return second.detach()
""",
        "torch.func.grad twice, then vmap over the elements": """
def second_derivative(f, x):
    scalar_f = lambda t: f(t)
    d2 = torch.func.grad(torch.func.grad(scalar_f))
    flat = x.detach().reshape(-1)
    return torch.func.vmap(d2)(flat).reshape(x.shape)
""",
    },
    "mean_loss": {
        "inference_mode and a list of floats": """
def mean_loss(model, loss_fn, batches):
    with torch.inference_mode():
        losses = [loss_fn(model(x), y).item() for x, y in batches]
    return sum(losses) / len(losses)
""",
        "no_grad as a decorator on an inner function": """
def mean_loss(model, loss_fn, batches):
    @torch.no_grad()
    def one(x, y):
        return float(loss_fn(model(x), y))
    return sum(one(x, y) for x, y in batches) / len(batches)
""",
    },
    "straight_through": {
        "x minus its detached fractional change": """
def round_straight_through(x):
    return x - (x - x.round()).detach()
""",
        "detached rounding plus x - x.detach() (value 0, gradient 1)": """
def round_straight_through(x):
    rounded = torch.round(x.detach())
    return rounded + x - x.detach()
""",
    },
    "clip_grad_hook": {
        "a named hook function with torch.clamp": """
def clip_grad_hook(t, limit):
    def clip(grad):
        return torch.clamp(grad, min=-limit, max=limit)
    return t.register_hook(clip)
""",
        "Tensor.clip in a lambda": """
def clip_grad_hook(t, limit):
    return t.register_hook(lambda g: g.clip(-limit, limit))
""",
    },
    "sgd_step": {
        "torch.optim.SGD for one step": """
def sgd_step(params, lr):
    with_grads = [p for p in params if p.grad is not None]
    if with_grads:
        torch.optim.SGD(with_grads, lr=lr).step()
    for p in with_grads:
        p.grad = None
""",
        "add_ with alpha under no_grad": """
def sgd_step(params, lr):
    for p in params:
        if p.grad is None:
            continue
        with torch.no_grad():
            p.add_(p.grad, alpha=-lr)
        p.grad = None
""",
    },
}
