"""Wrong answers a learner plausibly writes for 05_optim; each must lose the points."""
NOTEBOOK = "05_optim"

MISTAKES = {
    "sgd_update": {
        "rebinds the name instead of updating in place": """
def sgd_update_(params, lr):
    for p in params:
        if p.grad is not None:
            p = p - lr * p.grad
            p.grad = None
""",
        "forgets to clear the gradient": """
def sgd_update_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
""",
        "in-place update outside no_grad": """
def sgd_update_(params, lr):
    for p in params:
        if p.grad is not None:
            p -= lr * p.grad
            p.grad = None
""",
        "does not skip tensors without a gradient": """
def sgd_update_(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
""",
        "gradient ascent (wrong sign)": """
def sgd_update_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p += lr * p.grad
                p.grad = None
""",
    },
    "train_step": {
        "no zero_grad": """
def train_step(model, loss_fn, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
        "step before backward": """
def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    optimizer.step()
    loss.backward()
    return loss.item()
""",
        "zero_grad between backward and step": """
def train_step(model, loss_fn, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
""",
        "returns the loss tensor": """
def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss
""",
        "returns the loss after the update": """
def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
    with torch.no_grad():
        return loss_fn(model(x), y).item()
""",
    },
    "momentum_optimizer": {
        "momentum buffer not kept between steps": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffer = torch.zeros_like(p)
                buffer.mul_(group["momentum"]).add_(p.grad)
                p.add_(buffer, alpha=-group["lr"])
""",
        "dampened average (1 - momentum) * g": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = p.grad.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(p.grad, alpha=1 - group["momentum"])
                p.add_(state["momentum_buffer"], alpha=-group["lr"])
""",
        "hyper-parameters from the defaults, not the group": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        lr, momentum = self.defaults["lr"], self.defaults["momentum"]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = p.grad.clone()
                else:
                    state["momentum_buffer"].mul_(momentum).add_(p.grad)
                p.add_(state["momentum_buffer"], alpha=-lr)
""",
        "buffers in a private dict, not self.state": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))
        self.buffers = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p not in self.buffers:
                    self.buffers[p] = p.grad.clone()
                else:
                    self.buffers[p].mul_(group["momentum"]).add_(p.grad)
                p.add_(self.buffers[p], alpha=-group["lr"])
""",
        "gradient step before the buffer update": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                buffer = state.get("momentum_buffer", torch.zeros_like(p))
                p.add_(buffer, alpha=-group["lr"])
                state["momentum_buffer"] = buffer * group["momentum"] + p.grad
""",
    },
    "equivalent_lr": {
        "multiplies by the batch size": """
def equivalent_lr(optimizer, lr, batch_size):
    if optimizer in ("sgd", "momentum"):
        return lr * batch_size
    return lr
""",
        "divides by the batch size for every optimizer": """
def equivalent_lr(optimizer, lr, batch_size):
    return lr / batch_size
""",
        "only Adam is treated as scale-free": """
def equivalent_lr(optimizer, lr, batch_size):
    if optimizer == "adam":
        return lr
    return lr / batch_size
""",
        "the reduction does not matter": """
def equivalent_lr(optimizer, lr, batch_size):
    return lr
""",
    },
    "fit_cubic": {
        "no zero_grad": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses
""",
        "optimizer built on the wrong parameter set": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(Cubic().to(x.device).parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses
""",
        "step before backward": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        optimizer.step()
        loss.backward()
        losses.append(loss.item())
    return model, losses
""",
        "keeps the loss tensors (and their graphs)": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return model, losses
""",
        "plain SGD at Adam's learning rate (diverges)": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses
""",
    },
    "cosine_lr": {
        "forgets the factor 1/2": """
def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * step / total_steps))
""",
        "ignores min_lr inside the bracket": """
def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    return min_lr + 0.5 * base_lr * (1 + math.cos(math.pi * step / total_steps))
""",
        "cosine without pi": """
def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(step / total_steps))
""",
        "returns a tensor": """
def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + torch.cos(torch.tensor(math.pi * step / total_steps)))
""",
    },
    "train_with_schedule": {
        "scheduler.step() before optimizer.step()": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        scheduler.step()
        used.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
    return used
""",
        "records the lr after the scheduler moved it": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        scheduler.step()
        used.append(float(optimizer.param_groups[0]["lr"]))
    return used
""",
        "never steps the scheduler": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        used.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
    return used
""",
        "no zero_grad": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        loss_fn(model(x), y).backward()
        used.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return used
""",
    },
    "finetune_last_layer": {
        "optimizer built on every parameter": """
def finetune_last_layer(model, lr):
    last = [layer for layer in model if len(list(layer.parameters())) > 0][-1]
    keep = {id(p) for p in last.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return torch.optim.SGD(model.parameters(), lr=lr)
""",
        "takes model[-1] even when it is an activation": """
def finetune_last_layer(model, lr):
    for layer in model[:-1]:
        for p in layer.parameters():
            p.requires_grad_(False)
    return torch.optim.SGD(model[-1].parameters(), lr=lr)
""",
        "does not set requires_grad=False": """
def finetune_last_layer(model, lr):
    last = [layer for layer in model if len(list(layer.parameters())) > 0][-1]
    return torch.optim.SGD(last.parameters(), lr=lr)
""",
        "freezes the first layer instead of all but the last": """
def finetune_last_layer(model, lr):
    for p in model[0].parameters():
        p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.SGD(trainable, lr=lr)
""",
    },
    "param_groups": {
        "decides by name ('bias')": """
def adamw_param_groups(model, lr, weight_decay):
    decay = [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and n.endswith("bias")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)
""",
        "keeps frozen parameters": """
def adamw_param_groups(model, lr, weight_decay):
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)
""",
        "Adam with coupled weight decay": """
def adamw_param_groups(model, lr, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam([{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay},
                             {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}], lr=lr)
""",
        "weight decay on both groups": """
def adamw_param_groups(model, lr, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW([{"params": [p for p in trainable if p.ndim >= 2]},
                              {"params": [p for p in trainable if p.ndim < 2]}], lr=lr, weight_decay=weight_decay)
""",
    },
    "checkpoint": {
        "saves only the model": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"model": model.state_dict(), "step": step}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    return checkpoint["step"]
""",
        "forgets the scheduler": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["step"]
""",
        "loads into a new optimizer that nobody uses": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer = type(optimizer)(model.parameters(), **optimizer.defaults)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint["step"]
""",
        "returns the whole checkpoint instead of the step": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint
""",
    },
}
