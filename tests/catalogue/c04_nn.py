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
    "conv_output_size": {
        "forgets the + 1": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride
""",
        "true division returns a float": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1
""",
        "ignores dilation": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1
""",
        "rounds up instead of down": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
""",
        "padding counted once, not on both sides": """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1
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
