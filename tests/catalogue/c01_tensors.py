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
        "Manhattan instead of Euclidean distance": """
def pairwise_distances(x, y):
    return (x.unsqueeze(1) - y.unsqueeze(0)).abs().sum(dim=-1)
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
        "draws float32, then converts": """
def float64_pair(generator):
    tensor = torch.rand(3, 2, generator=generator).double()
    return tensor, tensor.numpy()
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
    },
}
