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
    "backward_q": {
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
