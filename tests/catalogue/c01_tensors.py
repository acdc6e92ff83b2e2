"""Wrong answers a learner plausibly writes for 01_tensors; each must lose the points on every device."""
NOTEBOOK = "01_tensors"

MISTAKES = {
    "framed_ones": {
        "chained slices t[1:-1][1:-1] pick rows twice": """
def framed_ones(n, device):
    frame = torch.ones(n, n, device=device)
    frame[1:-1][1:-1] = 2.0
    return frame
""",
        "hard-codes the 4x4 block": """
def framed_ones(n, device):
    frame = torch.ones(n, n, device=device)
    frame[1:3, 1:3] = 2.0
    return frame
""",
        "integer tensor instead of float32": """
def framed_ones(n, device):
    frame = torch.ones(n, n, dtype=torch.int64, device=device)
    frame[1:-1, 1:-1] = 2
    return frame
""",
        "fills with 2 and resets only the first row and column": """
def framed_ones(n, device):
    frame = torch.full((n, n), 2.0, device=device)
    frame[0] = 1.0
    frame[:, 0] = 1.0
    return frame
""",
        "border by index lists [0, -1]: fails for n = 0": """
def framed_ones(n, device):
    frame = torch.full((n, n), 2.0, device=device)
    frame[[0, -1], :] = 1.0
    frame[:, [0, -1]] = 1.0
    return frame
""",
    },
    "batched_scores": {
        "element-wise product instead of a matrix product": """
def batched_scores(q, k):
    return (q * k).sum(-1)
""",
        "keys times queries: (B, M, N) instead of (B, N, M)": """
def batched_scores(q, k):
    return k @ q.transpose(-2, -1)
""",
        "forgets to transpose k": """
def batched_scores(q, k):
    return torch.bmm(q, k)
""",
    },
    "pairwise_distances": {
        "subtracts without unsqueeze": """
def pairwise_distances(x, y):
    return (x - y).pow(2).sum(dim=-1).sqrt()
""",
        "squared distances (no sqrt)": """
def pairwise_distances(x, y):
    return (x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(dim=-1)
""",
        "sums over the wrong dimension": """
def pairwise_distances(x, y):
    return (x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(dim=1).sqrt()
""",
        "the banned shortcut torch.cdist": """
def pairwise_distances(x, y):
    return torch.cdist(x, y)
""",
        "torch.cdist imported under another name": """
from torch import cdist as all_distances

def pairwise_distances(x, y):
    return all_distances(x, y)
""",
        "torch.cdist without the matrix-product shortcut: right values, banned call": """
from torch import cdist as all_distances

def pairwise_distances(x, y):
    return all_distances(x, y, compute_mode="donot_use_mm_for_euclid_dist")
""",
        "Manhattan instead of Euclidean distance": """
def pairwise_distances(x, y):
    return (x.unsqueeze(1) - y.unsqueeze(0)).abs().sum(dim=-1)
""",
        "expanded-norm shortcut |x|^2 + |y|^2 - 2 x.y: no zero diagonal": """
def pairwise_distances(x, y):
    squared = x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1) - 2 * x @ y.T
    return squared.clamp(min=0).sqrt()
""",
    },
    "standardise": {
        "statistics without keepdim": """
def standardise(x, dim=0):
    return (x - x.mean(dim=dim)) / x.std(dim=dim, correction=0)
""",
        "default (sample) standard deviation": """
def standardise(x, dim=0):
    return (x - x.mean(dim=dim, keepdim=True)) / x.std(dim=dim, keepdim=True)
""",
        "global mean and std instead of per slice": """
def standardise(x, dim=0):
    return (x - x.mean()) / x.std(correction=0)
""",
        "modifies the input in place": """
def standardise(x, dim=0):
    mean = x.mean(dim=dim, keepdim=True)
    std = x.std(dim=dim, keepdim=True, correction=0)
    return x.sub_(mean).div_(std)
""",
    },
    "accuracy": {
        "counts hits instead of the fraction": """
def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).sum().item()
""",
        "returns a tensor (forgot .item())": """
def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean()
""",
        "compares the max values instead of their indices": """
def accuracy(logits, labels):
    return (logits.max(dim=1)[0] == labels).float().mean().item()
""",
        "integer division": """
def accuracy(logits, labels):
    return float((logits.argmax(dim=1) == labels).sum().item() // labels.numel())
""",
        "argmax over the wrong dimension": """
def accuracy(logits, labels):
    predictions = logits.argmax(dim=0)
    return (predictions[: labels.numel()] == labels).float().mean().item()
""",
    },
    "patches": {
        "view after permute": """
def to_patches(images, p):
    B, H, W = images.shape
    blocks = images.reshape(B, H // p, p, W // p, p).permute(0, 1, 3, 2, 4)
    return blocks.view(B, (H // p) * (W // p), p * p)
""",
        "a plain reshape keeps pixels in row order": """
def to_patches(images, p):
    B, H, W = images.shape
    return images.reshape(B, (H // p) * (W // p), p * p)
""",
        "patches in column order": """
def to_patches(images, p):
    B, H, W = images.shape
    blocks = images.reshape(B, H // p, p, W // p, p).permute(0, 3, 1, 2, 4)
    return blocks.reshape(B, (H // p) * (W // p), p * p)
""",
    },
    "float64_pair": {
        "default float32": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, generator=generator)
    return tensor, tensor.numpy()
""",
        "one fixed seed instead of the generator": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return tensor, tensor.numpy()
""",
        "float64 from the start, but the twin through a Python list": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, dtype=torch.float64, generator=generator)
    return tensor, np.array(tensor.tolist())
""",
        "copies into a new array": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, dtype=torch.float64, generator=generator)
    return tensor, tensor.numpy().copy()
""",
        "ignores the generator": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, dtype=torch.float64)
    return tensor, tensor.numpy()
""",
    },
    "to_numpy": {
        "plain .numpy()": """
def to_numpy(t):
    return t.numpy()
""",
        ".cpu().numpy() without detach": """
def to_numpy(t):
    return t.cpu().numpy()
""",
        "through a Python list (float64, loses shape of 0-d)": """
def to_numpy(t):
    return np.array(t.tolist())
""",
        "turns off requires_grad on the input": """
def to_numpy(t):
    t.requires_grad_(False)
    return t.cpu().numpy()
""",
    },
    "two_layer_grads": {
        "forgets the ReLU in the backward pass": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = r.t() @ grad_y_pred
    grad_h = grad_y_pred @ w2.t()
    grad_w1 = x.t() @ grad_h
    return loss, grad_w1, grad_w2
""",
        "drops the factor 2": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = y_pred - y
    grad_w2 = r.t() @ grad_y_pred
    grad_h = (grad_y_pred @ w2.t()) * (h > 0)
    grad_w1 = x.t() @ grad_h
    return loss, grad_w1, grad_w2
""",
        "in-place clamp_ destroys the mask": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp_(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = r.t() @ grad_y_pred
    grad_h = grad_y_pred @ w2.t()
    grad_h[h < 0] = 0
    grad_w1 = x.t() @ grad_h
    return loss, grad_w1, grad_w2
""",
        "transposes on the wrong side": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = grad_y_pred.t() @ r
    grad_h = (grad_y_pred @ w2.t()) * (h > 0)
    grad_w1 = grad_h.t() @ x
    return loss, grad_w1, grad_w2
""",
        "mean instead of sum": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).mean().item()
    grad_y_pred = 2.0 * (y_pred - y) / y.numel()
    grad_w2 = r.t() @ grad_y_pred
    grad_h = (grad_y_pred @ w2.t()) * (h > 0)
    grad_w1 = x.t() @ grad_h
    return loss, grad_w1, grad_w2
""",
        "hands the backward pass to autograd (the banned shortcut)": """
def two_layer_grads(x, y, w1, w2):
    a = w1.detach().clone().requires_grad_()
    b = w2.detach().clone().requires_grad_()
    loss = ((x @ a).clamp(min=0) @ b - y).pow(2).sum()
    loss.backward()
    return loss.item(), a.grad, b.grad
""",
        "torch.autograd.grad instead of the chain rule by hand": """
def two_layer_grads(x, y, w1, w2):
    a, b = w1.clone(), w2.clone()
    a.requires_grad = True
    b.requires_grad = True
    loss = ((x @ a).clamp(min=0) @ b - y).pow(2).sum()
    grad_w1, grad_w2 = torch.autograd.grad(loss, (a, b))
    return loss.item(), grad_w1, grad_w2
""",
        "returns the loss as a tensor": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    y_pred = r @ w2
    loss = (y_pred - y).pow(2).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = r.t() @ grad_y_pred
    grad_h = (grad_y_pred @ w2.t()) * (h > 0)
    grad_w1 = x.t() @ grad_h
    return loss, grad_w1, grad_w2
""",
        "forward-mode autograd (torch.func.jacfwd) instead of the chain rule by hand": """
def two_layer_grads(x, y, w1, w2):
    def loss_of(a, b):
        return ((x @ a).clamp(min=0) @ b - y).pow(2).sum()
    grad_w1, grad_w2 = torch.func.jacfwd(loss_of, argnums=(0, 1))(w1, w2)
    return loss_of(w1, w2).item(), grad_w1, grad_w2
""",
        "reuses y's memory for the residual (y changes in place)": """
def two_layer_grads(x, y, w1, w2):
    h = x @ w1
    r = h.clamp(min=0)
    residual = y.neg_().add_(r @ w2)     # y_pred - y, written into y
    loss = residual.pow(2).sum().item()
    grad_w2 = r.t() @ (2.0 * residual)
    grad_h = (2.0 * residual @ w2.t()) * (h > 0)
    return loss, x.t() @ grad_h, grad_w2
""",
    },
}

# Mistakes whose values are right but computed by the way the exercise rules out (a banned call,
# autograd where the backward pass is asked for by hand, a copy where memory is to be shared):
# they lose only the method's share (coursekit.checks.METHOD_SHARE); every other mistake earns nothing.
METHOD = {
    "pairwise_distances": {"torch.cdist without the matrix-product shortcut: right values, banned call"},
    "float64_pair": {"copies into a new array", "float64 from the start, but the twin through a Python list"},
    "two_layer_grads": {
        "hands the backward pass to autograd (the banned shortcut)",
        "torch.autograd.grad instead of the chain rule by hand",
        "forward-mode autograd (torch.func.jacfwd) instead of the chain rule by hand",
    },
}

# Correct answers a strong student or the PyTorch documentation would write instead of the
# master's; each must keep full marks.
ALTERNATIVES = {
    "framed_ones": {
        "a padded block of twos": """
import torch.nn.functional as F

def framed_ones(n, device):
    inside = torch.full((max(n - 2, 0), max(n - 2, 0)), 2.0, device=device)
    return F.pad(inside, (1, 1, 1, 1), value=1.0)[:n, :n] if n >= 2 else torch.ones(n, n, device=device)
""",
        "an outer product of masks": """
def framed_ones(n, device):
    idx = torch.arange(n, device=device)
    inside = (idx > 0) & (idx < n - 1)
    return 1.0 + (inside[:, None] & inside[None, :]).float()
""",
    },
    "batched_scores": {
        "einsum": """
def batched_scores(q, k):
    return torch.einsum("bnd,bmd->bnm", q, k)
""",
        "bmm with mT": """
def batched_scores(q, k):
    return torch.bmm(q, k.mT)
""",
        "matmul with transpose(1, 2)": """
def batched_scores(q, k):
    return torch.matmul(q, k.transpose(1, 2))
""",
    },
    "pairwise_distances": {
        "indexing with None, then norm": """
def pairwise_distances(x, y):
    return (x[:, None, :] - y[None, :, :]).norm(dim=-1)
""",
        "torch.linalg.vector_norm": """
def pairwise_distances(x, y):
    return torch.linalg.vector_norm(x.unsqueeze(1) - y.unsqueeze(0), ord=2, dim=2)
""",
        "unsqueeze(-2) against unsqueeze(-3), then sqrt of summed squares": """
def pairwise_distances(x, y):
    diff = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt((diff ** 2).sum(-1))
""",
        "torch.nn.functional.pairwise_distance on broadcast pairs (eps=0)": """
import torch.nn.functional as F

def pairwise_distances(x, y):
    return F.pairwise_distance(x.unsqueeze(1), y.unsqueeze(0), eps=0.0)
""",
    },
    "standardise": {
        "torch.std_mean with unbiased=False": """
def standardise(x, dim=0):
    std, mean = torch.std_mean(x, dim=dim, keepdim=True, unbiased=False)
    return (x - mean) / std
""",
        "variance by hand, then the square root": """
def standardise(x, dim=0):
    centred = x - x.mean(dim, keepdim=True)
    return centred / centred.pow(2).mean(dim, keepdim=True).sqrt()
""",
        "var(correction=0) and rsqrt": """
def standardise(x, dim=0):
    mean = x.mean(dim=dim, keepdim=True)
    return (x - mean) * torch.rsqrt(x.var(dim=dim, correction=0, keepdim=True))
""",
    },
    "accuracy": {
        "max(dim=1) indices and a sum divided by N": """
def accuracy(logits, labels):
    _, predicted = logits.max(dim=1)
    return (predicted == labels).sum().item() / labels.size(0)
""",
        "torch.eq and a double mean": """
def accuracy(logits, labels):
    return torch.eq(torch.argmax(logits, dim=-1), labels).double().mean().item()
""",
        "NumPy's mean: a numpy.float64, which is a Python float": """
def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).cpu().numpy().mean()
""",
    },
    "patches": {
        "unfold twice": """
def to_patches(images, p):
    B, H, W = images.shape
    blocks = images.unfold(1, p, p).unfold(2, p, p)        # (B, H//p, W//p, p, p)
    return blocks.reshape(B, -1, p * p)
""",
        "view, permute, contiguous, view": """
def to_patches(images, p):
    B, H, W = images.shape
    blocks = images.contiguous().view(B, H // p, p, W // p, p).permute(0, 1, 3, 2, 4).contiguous()
    return blocks.view(B, -1, p * p)
""",
        "transpose, then flatten twice": """
def to_patches(images, p):
    B, H, W = images.shape
    blocks = images.reshape(B, H // p, p, W // p, p).transpose(2, 3)
    return blocks.flatten(3).flatten(1, 2)
""",
    },
    "float64_pair": {
        "standard normal in float64": """
def float64_pair(generator):
    tensor = torch.randn(3, 2, dtype=torch.float64, generator=generator)
    return tensor, tensor.numpy()
""",
        "uniform in float32, then .double()": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, generator=generator).double()
    return tensor, tensor.numpy()
""",
        "empty float64 filled in place with uniform_": """
def float64_pair(generator):
    tensor = torch.empty(3, 2, dtype=torch.float64).uniform_(0, 1, generator=generator)
    return tensor, tensor.numpy()
""",
    },
    "to_numpy": {
        "to('cpu') then detach and numpy": """
def to_numpy(t):
    return t.to("cpu").detach().numpy()
""",
        "numpy(force=True)": """
def to_numpy(t):
    return t.numpy(force=True)
""",
    },
    "two_layer_grads": {
        "ReLU mask from the activations and mm": """
def two_layer_grads(x, y, w1, w2):
    h = torch.mm(x, w1)
    r = torch.relu(h)
    diff = torch.mm(r, w2) - y
    loss = float((diff * diff).sum())
    grad_w2 = torch.mm(r.T, 2 * diff)
    grad_r = torch.mm(2 * diff, w2.T)
    grad_w1 = torch.mm(x.T, grad_r.masked_fill(h <= 0, 0))
    return loss, grad_w1, grad_w2
""",
        "einsum for every product": """
def two_layer_grads(x, y, w1, w2):
    h = torch.einsum("nd,dh->nh", x, w1)
    r = torch.where(h > 0, h, torch.zeros_like(h))
    g = 2 * (torch.einsum("nh,ho->no", r, w2) - y)
    loss = (g / 2).square().sum().item()
    grad_w2 = torch.einsum("nh,no->ho", r, g)
    grad_h = torch.einsum("no,ho->nh", g, w2) * (h > 0).to(h.dtype)
    grad_w1 = torch.einsum("nd,nh->dh", x, grad_h)
    return loss, grad_w1, grad_w2
""",
    },
}
