"""Wrong answers a learner plausibly writes for 05_optim; each must lose the points."""
NOTEBOOK = "05_optim"

MISTAKES = {
    "decayed_sgd_step": {
        "rebinds the name instead of updating in place": """
def decayed_sgd_step_(params, lr, weight_decay):
    for p in params:
        if p.grad is not None:
            p = p - lr * (p.grad + weight_decay * p)
            p.grad = None
""",
        "forgets the decay (plain SGD)": """
def decayed_sgd_step_(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None
""",
        "decays by weight_decay alone, without the learning rate": """
def decayed_sgd_step_(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad + weight_decay * p
                p.grad = None
""",
        "forgets to clear the gradient": """
def decayed_sgd_step_(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * (p.grad + weight_decay * p)
""",
        "decays the tensors without a gradient too": """
def decayed_sgd_step_(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            step = weight_decay * p if p.grad is None else p.grad + weight_decay * p
            p -= lr * step
            p.grad = None
""",
        "adds the decay into .grad in place outside no_grad": """
def decayed_sgd_step_(params, lr, weight_decay):
    for p in params:
        if p.grad is not None:
            p.grad += weight_decay * p
            p -= lr * p.grad
            p.grad = None
""",
        "the banned shortcut: torch.optim.SGD does the update": """
def decayed_sgd_step_(params, lr, weight_decay):
    with_grad = [p for p in params if p.grad is not None]
    if with_grad:
        torch.optim.SGD(with_grad, lr=lr, weight_decay=weight_decay).step()
    for p in with_grad:
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
        # the ban holds under any name: a function imported under another name before the tests ran
        "torch.optim's own SGD update, imported under another name": """
from torch.optim.sgd import _single_tensor_sgd as update_parameters


class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            buffers = [self.state[p].get("momentum_buffer") for p in params]
            update_parameters(params, [p.grad for p in params], buffers, None, None, weight_decay=0.0,
                              momentum=group["momentum"], lr=group["lr"], dampening=0.0, nesterov=False,
                              maximize=False, has_sparse_grad=False)
            for p, buffer in zip(params, buffers):
                self.state[p]["momentum_buffer"] = buffer
        return loss
""",
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
        "the banned shortcut: torch's functional sgd, buffers kept in self.state": """
import torch.optim._functional as optim_functional


class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            buffers = [self.state[p].get("momentum_buffer") for p in params]
            optim_functional.sgd(params, [p.grad for p in params], buffers, weight_decay=0.0,
                                 momentum=group["momentum"], lr=group["lr"], dampening=0.0,
                                 nesterov=False, maximize=False)
            for p, buffer in zip(params, buffers):
                self.state[p]["momentum_buffer"] = buffer
        return loss
""",
        "the banned shortcut: an inner torch.optim.SGD does the steps": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))
        self.inner = torch.optim.SGD(self.param_groups, lr=lr, momentum=momentum)
        self.state = self.inner.state

    def step(self, closure=None):
        return self.inner.step(closure)
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
    "warmup_cosine": {
        "the cosine counts its length from step 0, not from the end of the warm-up": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup_steps)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_lr)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[warmup_steps])
""",
        "LinearLR's default start factor (1/3)": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, total_iters=warmup_steps)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[warmup_steps])
""",
        "ChainedScheduler: both run from step 0 and multiply": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup_steps)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return torch.optim.lr_scheduler.ChainedScheduler([warmup, decay])
""",
        "a straight line down instead of half a cosine": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    base_lr = optimizer.param_groups[0]["lr"]

    def factor(step):
        if step < warmup_steps:
            return 0.1 + 0.9 * step / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return (base_lr + (min_lr - base_lr) * progress) / base_lr

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
""",
        "a whole cosine period (back up at the end)": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    base_lr = optimizer.param_groups[0]["lr"]

    def factor(step):
        if step < warmup_steps:
            return 0.1 + 0.9 * step / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return (min_lr + (base_lr - min_lr) * (1 + math.cos(2 * math.pi * progress)) / 2) / base_lr

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
""",
        "warm-up from zero": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    base_lr = optimizer.param_groups[0]["lr"]

    def factor(step):
        if step < warmup_steps:
            return step / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return (min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2) / base_lr

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
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
        "passes the loss to every scheduler's step()": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        used.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step(loss.item())
    return used
""",
        "ReduceLROnPlateau told the loss once, after the loop": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        used.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        if not plateau:
            scheduler.step()
    if plateau:
        scheduler.step(loss.item())
    return used
""",
    },
    "clipped_train_step": {
        "clips each tensor on its own": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    for p in model.parameters():
        torch.nn.utils.clip_grad_norm_(p, max_norm)
    optimizer.step()
    return loss.item(), norm.item()
""",
        "clips each element (clip_grad_value_)": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    norm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters()))
    torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), norm.item()
""",
        "clips after optimizer.step() (too late)": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return loss.item(), norm.item()
""",
        "returns the norm after clipping": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    norm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters()))
    optimizer.step()
    return loss.item(), norm.item()
""",
        "clips before backward (no gradients yet)": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item(), norm.item()
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

# Correct answers other than the master's (other APIs, other orders that are still right, the way the
# PyTorch documentation writes them); each must keep full marks.
ALTERNATIVES = {
    "decayed_sgd_step": {
        "add_ with alpha under a no_grad decorator": """
@torch.no_grad()
def decayed_sgd_step_(params, lr, weight_decay):
    for p in params:
        if p.grad is not None:
            p.add_(p.grad.add(p, alpha=weight_decay), alpha=-lr)
            p.grad = None
""",
        "shrink first, then step along the gradient": """
def decayed_sgd_step_(params, lr, weight_decay):
    with_grad = [p for p in params if p.grad is not None]
    with torch.no_grad():
        for p in with_grad:
            grad = p.grad
            p.mul_(1 - lr * weight_decay)
            p.sub_(lr * grad)
    for p in with_grad:
        p.grad = None
""",
    },
    "train_step": {
        "model.zero_grad() instead of the optimizer's": """
def train_step(model, loss_fn, optimizer, x, y):
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
        "a closure passed to optimizer.step": """
def train_step(model, loss_fn, optimizer, x, y):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss
    return float(optimizer.step(closure))
""",
        "gradients zeroed in place (set_to_none=False), loss read with float()": """
def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad(set_to_none=False)
    prediction = model(x)
    loss = loss_fn(prediction, y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
""",
    },
    "momentum_optimizer": {
        "buffer starts at zero (so v = g on the first step)": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buffer = state["momentum_buffer"]
                buffer.mul_(group["momentum"]).add_(p.grad)
                p.sub_(group["lr"] * buffer)
        return loss
""",
        "a new buffer tensor each step, stored back in self.state": """
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        defaults = {"lr": lr, "momentum": momentum}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                velocity = self.state[p].get("velocity")
                velocity = p.grad.clone() if velocity is None else mu * velocity + p.grad
                self.state[p]["velocity"] = velocity
                p.add_(-lr * velocity)
        return loss
""",
    },
    "equivalent_lr": {
        "a table of which optimizers ignore the gradient's scale": """
def equivalent_lr(optimizer, lr, batch_size):
    scale_free = {"sgd": False, "momentum": False, "adagrad": True, "rmsprop": True, "adam": True}
    return float(lr) if scale_free[optimizer] else lr / batch_size
""",
        "tests the adaptive optimizers first": """
def equivalent_lr(optimizer, lr, batch_size):
    if optimizer in ("adagrad", "rmsprop", "adam"):
        return float(lr)
    return float(lr) / batch_size
""",
    },
    "fit_cubic": {
        "mean of squares written out, model.zero_grad()": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return model, losses
""",
        "a closure and nn.MSELoss": """
def fit_cubic(x, y, steps=500, lr=0.05):
    model = Cubic().to(device=x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.MSELoss()

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(steps)]
    return model, losses
""",
    },
    "warmup_cosine": {
        "LambdaLR with the shape written out": """
def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    base_lr = optimizer.param_groups[0]["lr"]

    def factor(step):
        if step < warmup_steps:
            return 0.1 + 0.9 * step / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return (min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))) / base_lr

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
""",
        "a scheduler class of its own with a closed form": """
class WarmupCosine(torch.optim.lr_scheduler.LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, min_lr):
        self.warmup_steps, self.total_steps, self.min_lr = warmup_steps, total_steps, min_lr
        super().__init__(optimizer)

    def get_lr(self):
        t = self.last_epoch
        if t < self.warmup_steps:
            return [base * (0.1 + 0.9 * t / self.warmup_steps) for base in self.base_lrs]
        progress = min(1.0, (t - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return [self.min_lr + (base - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2 for base in self.base_lrs]


def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    return WarmupCosine(optimizer, warmup_steps, total_steps, min_lr)
""",
    },
    "train_with_schedule": {
        "reads scheduler.get_last_lr() and passes the loss as a tensor": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    used = []
    for _ in range(steps):
        used.append(float(scheduler.get_last_lr()[0]))
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(loss.detach())
        else:
            scheduler.step()
    return used
""",
        "a closure passed to optimizer.step": """
def train_with_schedule(model, loss_fn, optimizer, scheduler, x, y, steps):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    used = []
    for _ in range(steps):
        used.append(optimizer.param_groups[0]["lr"])
        loss = optimizer.step(closure)
        if plateau:
            scheduler.step(loss.item())
        else:
            scheduler.step()
    return [float(lr) for lr in used]
""",
    },
    "clipped_train_step": {
        "the norm and the rescaling written by hand": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total = torch.cat([g.flatten() for g in grads]).norm()
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / total)
    optimizer.step()
    return loss.item(), total.item()
""",
        "get_total_norm, then clip_grads_with_norm_": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    total = torch.nn.utils.get_total_norm([p.grad for p in params])
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
    optimizer.step()
    return float(loss), float(total)
""",
        "a clamped scale factor from the per-tensor norms": """
def clipped_train_step(model, loss_fn, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    optimizer.step()
    return loss.item(), total.item()
""",
    },
    "finetune_last_layer": {
        "freeze the whole model, then unfreeze the last layer": """
def finetune_last_layer(model, lr):
    model.requires_grad_(False)
    last = next(layer for layer in reversed(model) if list(layer.parameters()))
    last.requires_grad_(True)
    return torch.optim.SGD(last.parameters(), lr=lr)
""",
        "by index, optimizer on what still requires grad": """
def finetune_last_layer(model, lr):
    last_index = max(i for i, layer in enumerate(model) if len(list(layer.parameters())) > 0)
    for i, layer in enumerate(model):
        for p in layer.parameters():
            p.requires_grad = i == last_index
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
""",
    },
    "param_groups": {
        "one pass over named_parameters": """
def adamw_param_groups(model, lr, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)
""",
        "weight_decay as the default, overridden in the second group": """
def adamw_param_groups(model, lr, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW([{"params": [p for p in trainable if p.dim() > 1]},
                              {"params": [p for p in trainable if p.dim() <= 1], "weight_decay": 0.0}],
                             lr=lr, weight_decay=weight_decay)
""",
    },
    "checkpoint": {
        "other key names, torch.load with map_location only": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    state = {"model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(),
             "scheduler_state": scheduler.state_dict(), "step": step}
    torch.save(state, path)


def load_checkpoint(path, model, optimizer, scheduler):
    device = next(model.parameters()).device
    state = torch.load(path, map_location=device)
    model.load_state_dict(state["model_state"])
    optimizer.load_state_dict(state["optimizer_state"])
    scheduler.load_state_dict(state["scheduler_state"])
    return state["step"]
""",
        "file objects and a list of state dicts": """
def save_checkpoint(path, model, optimizer, scheduler, step):
    with open(path, "wb") as f:
        torch.save({"step": step, "states": [model.state_dict(), optimizer.state_dict(), scheduler.state_dict()]}, f)


def load_checkpoint(path, model, optimizer, scheduler):
    with open(path, "rb") as f:
        saved = torch.load(f, map_location=next(model.parameters()).device, weights_only=True)
    for thing, state in zip((model, optimizer, scheduler), saved["states"]):
        thing.load_state_dict(state)
    return int(saved["step"])
""",
    },
}

# Issue 27's fairness classes: contracts the statements state, each observed by the tests.
MISTAKES["train_step"]["clears the gradients only after the step (stale ones reach the first update)"] = """
def train_step(model, loss_fn, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return float(loss.detach())
"""
MISTAKES["warmup_cosine"]["a hand-rolled scheduler object (the statement asks for torch.optim.lr_scheduler)"] = """
class WarmupCosine:
    def __init__(self, optimizer, warmup_steps, total_steps, min_lr):
        self.optimizer, self.t = optimizer, 0
        self.base, self.warmup, self.total, self.min_lr = optimizer.param_groups[0]["lr"], warmup_steps, total_steps, min_lr
        self._apply()

    def _apply(self):
        if self.t < self.warmup:
            lr = self.base * (0.1 + 0.9 * self.t / self.warmup)
        else:
            k = (self.t - self.warmup) / (self.total - self.warmup)
            lr = self.min_lr + (self.base - self.min_lr) * (1 + math.cos(math.pi * k)) / 2
        self.optimizer.param_groups[0]["lr"] = lr

    def step(self):
        self.t += 1
        self._apply()


def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr):
    return WarmupCosine(optimizer, warmup_steps, total_steps, min_lr)
"""
ALTERNATIVES["fit_cubic"]["returns a subclass of Cubic that also keeps its losses"] = """
class TrackedCubic(Cubic):
    '''A Cubic that remembers the losses of its fit.'''

def fit_cubic(x, y, steps=500, lr=0.05):
    model = TrackedCubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        model.losses.append(loss.item())
    return model, list(model.losses)
"""

# Issue 24's method share: right values by a way the exercise rules out. Only probes see the way, and a kernel
# can forge what they report, so these lose the method's third of the points and keep the rest.
MISTAKES["finetune_last_layer"]["a plain SGD written by hand (the statement asks for torch.optim.SGD)"] = """
class PlainSGD(torch.optim.Optimizer):
    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def finetune_last_layer(model, lr):
    last = [layer for layer in model if len(list(layer.parameters())) > 0][-1]
    keep = {id(p) for p in last.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return PlainSGD(last.parameters(), lr=lr)
"""
MISTAKES["finetune_last_layer"]["SGD with momentum on the last layer"] = """
def finetune_last_layer(model, lr):
    last = [layer for layer in model if len(list(layer.parameters())) > 0][-1]
    keep = {id(p) for p in last.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return torch.optim.SGD(last.parameters(), lr=lr, momentum=0.9)
"""
MISTAKES["param_groups"]["Adam with decoupled_weight_decay=True (the statement asks for torch.optim.AdamW)"] = """
def adamw_param_groups(model, lr, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam([{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay},
                             {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}],
                            lr=lr, decoupled_weight_decay=True)
"""
MISTAKES["param_groups"]["SGD with the right groups (the same step only when the gradient is zero)"] = """
def adamw_param_groups(model, lr, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.SGD([{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay},
                            {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}], lr=lr)
"""
MISTAKES["momentum_optimizer"]["subclasses torch.optim.SGD and lets it step"] = """
class SGDMomentum(torch.optim.SGD):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)
"""
MISTAKES["momentum_optimizer"]["step(closure) drops the closure's loss"] = """
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
                    state["momentum_buffer"].mul_(group["momentum"]).add_(p.grad)
                p.add_(state["momentum_buffer"], alpha=-group["lr"])
"""
MISTAKES["fit_cubic"]["default learning rate 0.1"] = """
def fit_cubic(x, y, steps=500, lr=0.1):
    model = Cubic().to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses
"""
MISTAKES["checkpoint"]["loads with weights_only=False (unpickles anything)"] = """
def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": int(step)}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    return int(checkpoint["step"])
"""

METHOD = {
    "decayed_sgd_step": {"the banned shortcut: torch.optim.SGD does the update"},
    "momentum_optimizer": {"torch.optim's own SGD update, imported under another name",
                           "the banned shortcut: torch's functional sgd, buffers kept in self.state",
                           "subclasses torch.optim.SGD and lets it step"},
    "warmup_cosine": {"a hand-rolled scheduler object (the statement asks for torch.optim.lr_scheduler)"},
    "finetune_last_layer": {"a plain SGD written by hand (the statement asks for torch.optim.SGD)"},
    "param_groups": {"Adam with decoupled_weight_decay=True (the statement asks for torch.optim.AdamW)"},
}
