"""Wrong answers a learner plausibly writes for 04_nn; each must lose the points on every device."""
NOTEBOOK = "04_nn"

MISTAKES = {
    "two_layer": {
        "forgets super().__init__()": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        self.hidden = nn.Linear(d_in, hidden)
        self.out = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
""",
        "raw tensors instead of layers (not registered)": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.w1 = torch.randn(d_in, hidden, requires_grad=True)
        self.b1 = torch.zeros(hidden, requires_grad=True)
        self.w2 = torch.randn(hidden, d_out, requires_grad=True)
        self.b2 = torch.zeros(d_out, requires_grad=True)

    def forward(self, x):
        return torch.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2
""",
        "ReLU after the output layer too": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.hidden = nn.Linear(d_in, hidden)
        self.out = nn.Linear(hidden, d_out)

    def forward(self, x):
        return torch.relu(self.out(torch.relu(self.hidden(x))))
""",
        "in and out features swapped": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.hidden = nn.Linear(hidden, d_in)
        self.out = nn.Linear(d_out, hidden)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
""",
        "layers created at class level (shared by every instance)": """
class TwoLayerNet(nn.Module):
    _cache = {}

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        key = (d_in, hidden, d_out)
        if key not in TwoLayerNet._cache:
            TwoLayerNet._cache[key] = (nn.Linear(d_in, hidden), nn.Linear(hidden, d_out))
        self.hidden, self.out = TwoLayerNet._cache[key]

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
""",
    },
    "count_trainable": {
        "counts parameter tensors, not numbers": """
def count_trainable(model):
    return len(list(model.parameters()))
""",
        "sums over the state_dict (buffers, frozen and shared counted)": """
def count_trainable(model):
    return sum(t.numel() for t in model.state_dict().values())
""",
        "ignores requires_grad": """
def count_trainable(model):
    return sum(p.numel() for p in model.parameters())
""",
        "returns a tensor instead of an int": """
def count_trainable(model):
    return torch.tensor([p.numel() for p in model.parameters() if p.requires_grad]).sum()
""",
    },
    "make_mlp": {
        "activation after the last layer too": """
def make_mlp(sizes, activation=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), activation()]
    return nn.Sequential(*layers)
""",
        "passes a Python list to nn.Sequential (no star)": """
def make_mlp(sizes, activation=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(activation())
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    return nn.Sequential(layers)
""",
        "in and out swapped in each Linear": """
def make_mlp(sizes, activation=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(activation())
        layers.append(nn.Linear(sizes[i + 1], sizes[i]))
    return nn.Sequential(*layers)
""",
        "ignores the activation argument (always ReLU)": """
def make_mlp(sizes, activation=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    return nn.Sequential(*layers)
""",
    },
    "tower": {
        "layers kept in a plain Python list": """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = [nn.Linear(width, width) for _ in range(depth)]

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x
""",
        "one layer repeated: ModuleList([layer] * depth)": """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width)] * depth)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x
""",
        "registered, but forward forgets the tanh": """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
""",
        "a plain dict of layers": """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = {str(i): nn.Linear(width, width) for i in range(depth)}

    def forward(self, x):
        for layer in self.layers.values():
            x = torch.tanh(layer(x))
        return x
""",
    },
    "sgd_epoch": {
        "no shuffling: the stored order every epoch": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    losses = []
    for xb, yb in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        loss = loss_fn(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
""",
        "never resets the gradients": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    losses = []
    for xb, yb in DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator):
        loss = loss_fn(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
""",
        "drops the last, smaller batch": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    losses = []
    for xb, yb in DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator, drop_last=True):
        loss = loss_fn(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
""",
        "ignores the generator: the global random state decides the order": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    losses = []
    for xb, yb in DataLoader(dataset, batch_size=batch_size, shuffle=True):
        loss = loss_fn(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
""",
        "one update per epoch: gradients of every batch summed, then one step": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    losses = []
    model.zero_grad()
    for xb, yb in DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator):
        loss = loss_fn(model(xb), yb)
        loss.backward()
        losses.append(loss.item())
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return losses
""",
        "draws indices with replacement (randint)": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    n = len(dataset)
    indices = torch.randint(0, n, (n,), generator=generator).tolist()
    losses = []
    for start in range(0, n, batch_size):
        items = [dataset[i] for i in indices[start:start + batch_size]]
        xb, yb = torch.stack([x for x, _ in items]), torch.stack([y for _, y in items])
        loss = loss_fn(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
""",
    },
    "conv_output_size": {
        "forgets the + 1": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "true division returns a float": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "ignores dilation": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "rounds up instead of down": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "padding counted once, not on both sides": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "runs a convolution to measure the size (banned)": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    out = F.conv1d(torch.ones(1, 1, size), torch.ones(1, 1, kernel_size), stride=stride, padding=padding, dilation=dilation)
    return out.shape[-1]


def same_padding(kernel_size, dilation=1):
    extra = dilation * (kernel_size - 1)
    if extra % 2:
        raise ValueError("no padding keeps the size")
    return extra // 2
""",
        "same_padding ignores dilation": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def same_padding(kernel_size, dilation=1):
    if kernel_size % 2 == 0:
        raise ValueError("no padding keeps the size")
    return (kernel_size - 1) // 2
""",
        "same_padding rounds down instead of refusing an even window": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def same_padding(kernel_size, dilation=1):
    return dilation * (kernel_size - 1) // 2
""",
    },
    "tiny_cnn": {
        "wrong flatten size: forgot the second pooling": """
def make_tiny_cnn(num_classes=10, image_size=28):
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 12 * 12, num_classes),
    )
""",
        "hard-codes 576 and ignores image_size": """
def make_tiny_cnn(num_classes=10, image_size=28):
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(576, num_classes),
    )
""",
        "no padding on the first convolution": """
def make_tiny_cnn(num_classes=10, image_size=28):
    side = ((image_size - 2) // 2 - 2) // 2
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * side * side, num_classes),
    )
""",
        "forgets nn.Flatten": """
def make_tiny_cnn(num_classes=10, image_size=28):
    side = ((image_size // 2) - 2) // 2
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Linear(16 * side * side, num_classes),
    )
""",
    },
    "init_kaiming": {
        "Xavier instead of Kaiming": """
def init_kaiming_(model, generator):
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_normal_(module.weight, generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
""",
        "ignores the generator": """
def init_kaiming_(model, generator):
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
""",
        "forgets the biases": """
def init_kaiming_(model, generator):
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
    return model
""",
        "fan_out mode": """
def init_kaiming_(model, generator):
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
""",
        "only the direct children, and only Linear": """
def init_kaiming_(model, generator):
    for module in model.children():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(module.bias)
    return model
""",
        "re-initialises every parameter, BatchNorm included": """
def init_kaiming_(model, generator):
    for name, p in model.named_parameters():
        if p.dim() > 1:
            nn.init.kaiming_normal_(p, nonlinearity="relu", generator=generator)
        else:
            nn.init.zeros_(p)
    return model
""",
    },
    "cross_entropy": {
        "nll_loss on probabilities (softmax instead of log_softmax)": """
def cross_entropy(logits, target):
    return F.nll_loss(F.softmax(logits, dim=1), target)
""",
        "log of softmax: underflows for large logits": """
def cross_entropy(logits, target):
    return F.nll_loss(torch.log(F.softmax(logits, dim=1)), target)
""",
        "softmax before the loss (as before CrossEntropyLoss)": """
def cross_entropy(logits, target):
    return F.nll_loss(F.log_softmax(F.softmax(logits, dim=1), dim=1), target)
""",
        "log_softmax over the batch dimension": """
def cross_entropy(logits, target):
    return F.nll_loss(F.log_softmax(logits, dim=0), target)
""",
        "sum instead of mean": """
def cross_entropy(logits, target):
    return F.nll_loss(F.log_softmax(logits, dim=1), target, reduction="sum")
""",
        "uses the forbidden shortcut": """
def cross_entropy(logits, target):
    return nn.CrossEntropyLoss()(logits, target)
""",
    },
    "predict": {
        "forgets eval(): Dropout stays on": """
def predict(model, x):
    with torch.no_grad():
        return model(x)
""",
        "forgets no_grad(): the graph is recorded": """
def predict(model, x):
    was_training = model.training
    model.eval()
    out = model(x)
    model.train(was_training)
    return out
""",
        "does not restore training mode": """
def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)
""",
        "always switches back to train()": """
def predict(model, x):
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train()
    return out
""",
        "detaches the output but keeps training mode": """
def predict(model, x):
    return model(x).detach()
""",
    },
    "save_and_reload": {
        "saves the whole model object": """
def save_and_reload(model, make_model, path):
    torch.save(model, path)
    return torch.load(path, weights_only=False)
""",
        "saves only the parameters (buffers lost)": """
def save_and_reload(model, make_model, path):
    torch.save(dict(model.named_parameters()), path)
    fresh = make_model()
    fresh.load_state_dict(torch.load(path, weights_only=True), strict=False)
    fresh.to(next(model.parameters()).device)
    fresh.train(model.training)
    return fresh
""",
        "forgets to load the state into the fresh model": """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    fresh = make_model()
    fresh.to(next(model.parameters()).device)
    fresh.train(model.training)
    return fresh
""",
        "forgets eval(): the copy stays in training mode": """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    fresh = make_model()
    fresh.load_state_dict(torch.load(path, weights_only=True))
    return fresh.to(next(model.parameters()).device)
""",
        "returns the original model": """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model
""",
        "always switches the copy to eval()": """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    fresh = make_model()
    fresh.load_state_dict(torch.load(path, weights_only=True))
    return fresh.to(next(model.parameters()).device).eval()
""",
    },
    "dynamic_net": {
        "creates a new layer in forward for every repeat": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randint(0, self.max_repeats)
        h = torch.relu(self.first(x))
        for _ in range(repeats):
            h = torch.relu(nn.Linear(h.shape[1], h.shape[1]).to(h.device, h.dtype)(h))
        return self.last(h)
""",
        "separate copies instead of one shared layer": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.middle = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(max_repeats)])
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randint(0, self.max_repeats)
        h = torch.relu(self.first(x))
        for i in range(repeats):
            h = torch.relu(self.middle[i % len(self.middle)](h))
        return self.last(h)
""",
        "upper bound excluded: never repeats max_repeats times": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randrange(0, self.max_repeats)
        h = torch.relu(self.first(x))
        for _ in range(repeats):
            h = torch.relu(self.shared(h))
        return self.last(h)
""",
        "ignores repeats: always one pass through the shared layer": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        h = torch.relu(self.first(x))
        h = torch.relu(self.shared(h))
        return self.last(h)
""",
        "caps explicit repeats at max_repeats": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randint(0, self.max_repeats)
        h = torch.relu(self.first(x))
        for _ in range(min(repeats, self.max_repeats)):
            h = torch.relu(self.shared(h))
        return self.last(h)
""",
    },
}

# Correct answers a strong student, or the PyTorch documentation, would write instead of the master's:
# each must keep full marks.
ALTERNATIVES = {
    "two_layer": {
        "F.relu in forward": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.hidden = nn.Linear(d_in, hidden)
        self.out = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x)))
""",
        "the activation as a module attribute": """
class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super(TwoLayerNet, self).__init__()
        self.hidden = nn.Linear(in_features=d_in, out_features=hidden)
        self.activation = nn.ReLU()
        self.out = nn.Linear(in_features=hidden, out_features=d_out)

    def forward(self, x):
        h = self.activation(self.hidden(x))
        return self.out(h)
""",
    },
    "count_trainable": {
        "filter and map": """
def count_trainable(model):
    return sum(map(torch.numel, filter(lambda p: p.requires_grad, model.parameters())))
""",
        "math.prod of the shapes, in a loop": """
def count_trainable(model):
    total = 0
    for _, parameter in model.named_parameters():
        if parameter.requires_grad:
            total += math.prod(parameter.shape)
    return total
""",
    },
    "make_mlp": {
        "pairs of sizes, last activation dropped": """
def make_mlp(sizes, activation=nn.ReLU):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation()]
    return nn.Sequential(*layers[:-1])
""",
        "Sequential.append": """
def make_mlp(sizes, activation=nn.ReLU):
    model = nn.Sequential()
    for i in range(1, len(sizes)):
        if i > 1:
            model.append(activation())
        model.append(nn.Linear(sizes[i - 1], sizes[i]))
    return model
""",
        "named layers in an OrderedDict": """
from collections import OrderedDict

def make_mlp(sizes, activation=nn.ReLU):
    layers = OrderedDict()
    for i in range(len(sizes) - 1):
        if i:
            layers[f"act{i}"] = activation()
        layers[f"linear{i}"] = nn.Linear(sizes[i], sizes[i + 1])
    return nn.Sequential(layers)
""",
    },
    "tower": {
        "ModuleList.append, tensor method tanh": """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(depth):
            self.layers.append(nn.Linear(width, width))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh()
        return x
""",
        "generator into ModuleList, functools.reduce in forward": """
import functools

class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x):
        return functools.reduce(lambda h, layer: torch.tanh(layer(h)), self.layers, x)
""",
    },
    "sgd_epoch": {
        "own permutation, examples fetched one by one and stacked": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    order = torch.randperm(len(dataset), generator=generator).tolist()
    losses = []
    for start in range(0, len(order), batch_size):
        items = [dataset[i] for i in order[start:start + batch_size]]
        xb = torch.stack([x for x, _ in items])
        yb = torch.stack([y for _, y in items])
        loss = loss_fn(model(xb), yb)
        losses.append(loss.item())
        for p in model.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
    return losses
""",
        "DataLoader and torch.optim.SGD": """
def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for inputs, targets in DataLoader(dataset, batch_size, shuffle=True, generator=generator):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
""",
        "BatchSampler over a RandomSampler, torch.autograd.grad": """
from torch.utils.data import BatchSampler, RandomSampler

def sgd_epoch(model, dataset, loss_fn, batch_size, lr, generator):
    batches = BatchSampler(RandomSampler(dataset, generator=generator), batch_size, drop_last=False)
    params = [p for p in model.parameters() if p.requires_grad]
    losses = []
    for xb, yb in DataLoader(dataset, batch_sampler=batches):
        loss = loss_fn(model(xb), yb)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        losses.append(float(loss.detach()))
    return losses
""",
    },
    "conv_output_size": {
        "counts the window starts with range; divmod for the padding": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return len(range(0, size + 2 * padding - span + 1, stride))


def same_padding(kernel_size, dilation=1):
    half, odd = divmod(dilation * (kernel_size - 1), 2)
    if odd:
        raise ValueError(f"kernel_size={kernel_size}, dilation={dilation}: the lost pixels cannot be split evenly")
    return half
""",
        "floor of a true division; padding found by search": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return int(math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride)) + 1


def same_padding(kernel_size, dilation=1):
    for padding in range(dilation * kernel_size + 1):
        if all(conv_output_size(n, kernel_size, 1, padding, dilation) == n for n in (50, 51)):
            return padding
    raise ValueError("no padding keeps the size of the input")
""",
    },
    "tiny_cnn": {
        "a helper for the size after each layer": """
def make_tiny_cnn(num_classes=10, image_size=28):
    def after(size, kernel, stride=1, padding=0):
        return (size + 2 * padding - kernel) // stride + 1

    side = after(after(after(after(image_size, 3, padding=1), 2, stride=2), 3), 2, stride=2)
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * side ** 2, num_classes),
    )
""",
        "a dry run of the features on one blank image": """
def make_tiny_cnn(num_classes=10, image_size=28):
    features = [
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ]
    with torch.no_grad():
        flat = nn.Sequential(*features)(torch.zeros(1, 1, image_size, image_size)).shape[1]
    return nn.Sequential(*features, nn.Linear(flat, num_classes))
""",
    },
    "init_kaiming": {
        "model.apply with an init function": """
def init_kaiming_(model, generator):
    def init(module):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu", generator=generator)
            if module.bias is not None:
                with torch.no_grad():
                    module.bias.zero_()
    model.apply(init)
    return model
""",
        "normal_ with the standard deviation worked out by hand": """
def init_kaiming_(model, generator):
    for module in model.modules():
        if type(module) in (nn.Linear, nn.Conv2d):
            fan_in = module.weight[0].numel()
            with torch.no_grad():
                module.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                if module.bias is not None:
                    module.bias.fill_(0.0)
    return model
""",
    },
    "cross_entropy": {
        "gather the log-probabilities of the targets": """
def cross_entropy(logits, target):
    log_probs = F.log_softmax(logits, dim=1)
    return -log_probs.gather(1, target.unsqueeze(1)).mean()
""",
        "logsumexp minus the target logit": """
def cross_entropy(logits, target):
    picked = logits[torch.arange(len(target), device=logits.device), target]
    return (torch.logsumexp(logits, dim=1) - picked).mean()
""",
        "nn.LogSoftmax and nn.NLLLoss modules": """
def cross_entropy(logits, target):
    return nn.NLLLoss()(nn.LogSoftmax(dim=1)(logits), target)
""",
    },
    "predict": {
        "torch.inference_mode, mode restored with an if": """
def predict(model, x):
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        out = model(x)
    if was_training:
        model.train()
    return out
""",
        "torch.no_grad() as a decorator": """
@torch.no_grad()
def predict(model, x):
    mode = model.training
    out = model.eval()(x)
    model.train(mode)
    return out
""",
    },
    "save_and_reload": {
        "moves first, loads with map_location": """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    device = next(model.parameters()).device
    fresh = make_model().to(device)
    fresh.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return fresh.train(model.training)
""",
        "loads on the CPU, device read from the state, eval() only when needed": """
def save_and_reload(model, make_model, path):
    state = model.state_dict()
    torch.save(state, path)
    fresh = make_model()
    fresh.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))
    fresh = fresh.to(next(iter(state.values())).device)
    if not model.training:
        fresh.eval()
    return fresh
""",
    },
    "dynamic_net": {
        "F.relu and a while loop": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randint(0, self.max_repeats)
        h = F.relu(self.first(x))
        while repeats > 0:
            h = F.relu(self.shared(h))
            repeats -= 1
        return self.last(h)
""",
        "depth drawn with torch.randint": """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=3):
        super().__init__()
        self.max_repeats = max_repeats
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = int(torch.randint(0, self.max_repeats + 1, ()))
        h = self.first(x).relu()
        for _ in range(repeats):
            h = self.shared(h).relu()
        return self.last(h)
""",
    },
}

MISTAKES["captured_calls"] = {
    "lists the declared leaf modules, not the calls": """
def captured_module_calls(model, **fixed):
    return [name for name, module in model.named_modules() if name and not list(module.children())]
""",
    "every node's target, functions and arguments included": """
def captured_module_calls(model, **fixed):
    graph_module = torch.fx.symbolic_trace(model, concrete_args=fixed)
    return [str(node.target) for node in graph_module.graph.nodes]
""",
    "ignores the frozen arguments": """
def captured_module_calls(model, **fixed):
    graph_module = torch.fx.symbolic_trace(model)
    return [node.target for node in graph_module.graph.nodes if node.op == "call_module"]
""",
    "only the top-level names": """
def captured_module_calls(model, **fixed):
    graph_module = torch.fx.symbolic_trace(model, concrete_args=fixed)
    return [node.target.split(".")[0] for node in graph_module.graph.nodes if node.op == "call_module"]
""",
}

ALTERNATIVES["captured_calls"] = {
    "graph.find_nodes": """
def captured_module_calls(model, **fixed):
    graph = torch.fx.symbolic_trace(model, concrete_args=fixed).graph
    return [node.target for node in graph.find_nodes(op="call_module")]
""",
    "a Tracer, without building a GraphModule": """
def captured_module_calls(model, **fixed):
    graph = torch.fx.Tracer().trace(model, concrete_args=fixed or None)
    calls = []
    for node in graph.nodes:
        if node.op == "call_module":
            calls.append(str(node.target))
    return calls
""",
}

# Issue 27's fairness classes: contracts the statements state, each observed by the tests, and correct answers
# spelled another way that must keep full marks.
MISTAKES["make_mlp"]["one activation object shared by every position"] = """
def make_mlp(sizes, activation=nn.ReLU):
    shared = activation()
    layers = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(shared)
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    return nn.Sequential(*layers)
"""
MISTAKES["cross_entropy"]["the banned function, imported earlier under another name"] = """
from torch.nn.functional import cross_entropy as _fused_loss

def cross_entropy(logits, target):
    return _fused_loss(logits, target)
"""
MISTAKES["predict"]["records the graph in the forward, then detaches the output"] = """
def predict(model, x):
    was_training = model.training
    model.eval()
    out = model(x).detach()
    model.train(was_training)
    return out
"""
ALTERNATIVES["make_mlp"]["a subclass of nn.Sequential"] = """
class MLP(nn.Sequential):
    '''An nn.Sequential that remembers its sizes.'''

def make_mlp(sizes, activation=nn.ReLU):
    layers = [nn.Linear(sizes[0], sizes[1])]
    for n_in, n_out in zip(sizes[1:-1], sizes[2:]):
        layers += [activation(), nn.Linear(n_in, n_out)]
    model = MLP(*layers)
    model.sizes = list(sizes)
    return model
"""
ALTERNATIVES["tiny_cnn"]["padding='same' for the first convolution (section 6 teaches it)"] = """
def make_tiny_cnn(num_classes=10, image_size=28):
    side = (image_size // 2 - 2) // 2
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=(3, 3)), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * side * side, num_classes),
    )
"""
MISTAKES["tower"]["assumes at least one layer (Tower(width, 0) fails)"] = """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])

    def forward(self, x):
        out = torch.tanh(self.layers[0](x))
        for layer in self.layers[1:]:
            out = torch.tanh(layer(out))
        return out
"""

# Right values by a way the statement rules out: only probes see the method, so these lose exactly its share
# (coursekit.checks.METHOD_SHARE); every other mistake loses every point.
MISTAKES["two_layer"]["a hand-written linear module instead of nn.Linear"] = """
class Affine(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) / math.sqrt(n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class TwoLayerNet(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.hidden = Affine(d_in, hidden)
        self.out = Affine(hidden, d_out)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
"""
MISTAKES["tower"]["layers in an nn.Sequential instead of an nn.ModuleList"] = """
class Tower(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.Sequential(*[nn.Linear(width, width) for _ in range(depth)])

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x
"""
MISTAKES["save_and_reload"]["reads the file back with weights_only=False (unpickles anything)"] = """
def save_and_reload(model, make_model, path):
    torch.save(model.state_dict(), path)
    fresh = make_model()
    fresh.load_state_dict(torch.load(path, weights_only=False))
    fresh.to(next(model.parameters()).device)
    fresh.train(model.training)
    return fresh
"""
MISTAKES["dynamic_net"]["another default for max_repeats"] = """
class DynamicNet(nn.Module):
    def __init__(self, d_in, hidden, d_out, max_repeats=2):
        super().__init__()
        self.first = nn.Linear(d_in, hidden)
        self.shared = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, d_out)
        self.max_repeats = max_repeats

    def forward(self, x, repeats=None):
        if repeats is None:
            repeats = random.randint(0, self.max_repeats)
        h = torch.relu(self.first(x))
        for _ in range(repeats):
            h = torch.relu(self.shared(h))
        return self.last(h)
"""
MISTAKES["tiny_cnn"]["first pooling counted as ceil(side / 2)"] = """
def make_tiny_cnn(num_classes=10, image_size=28):
    side = ((image_size + 1) // 2 - 2) // 2
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * side * side, num_classes),
    )
"""

METHOD = {
    "two_layer": {"layers created at class level (shared by every instance)",
                  "a hand-written linear module instead of nn.Linear"},
    "make_mlp": {"one activation object shared by every position"},
    "tower": {"layers in an nn.Sequential instead of an nn.ModuleList"},
    "conv_output_size": {"runs a convolution to measure the size (banned)"},
    "cross_entropy": {"uses the forbidden shortcut", "the banned function, imported earlier under another name"},
    "predict": {"records the graph in the forward, then detaches the output"},
    "save_and_reload": {"returns the original model"},
}
