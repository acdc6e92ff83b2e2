"""Wrong answers a learner plausibly writes for 06_mnist_cnn; each must lose the points."""
NOTEBOOK = "06_mnist_cnn"

MISTAKES = {
    "pixel_stats": {
        "sample std (torch.std's default correction=1)": """
def pixel_stats(images):
    pixels = images.double() / 255
    return pixels.mean().item(), pixels.std().item()
""",
        "average of per-image standard deviations": """
def pixel_stats(images):
    pixels = images.double() / 255
    return pixels.mean().item(), pixels.flatten(1).std(dim=1, correction=0).mean().item()
""",
        "forgets to scale the pixels by 255": """
def pixel_stats(images):
    pixels = images.double()
    return pixels.mean().item(), pixels.std(correction=0).item()
""",
        "returns tensors instead of Python floats": """
def pixel_stats(images):
    pixels = images.double() / 255
    return pixels.mean(), pixels.std(correction=0)
""",
    },
    "dataset": {
        "no channel dimension": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        x = (self.images[index].float() / 255 - MEAN) / STD
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])
""",
        "normalises the raw 0-255 values (forgets / 255)": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        x = (self.images[index].unsqueeze(0).float() - MEAN) / STD
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])
""",
        "label returned as a tensor": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        x = (self.images[index].unsqueeze(0).float() / 255 - MEAN) / STD
        if self.transform is not None:
            x = self.transform(x)
        return x, self.labels[index]
""",
        "ignores the transform": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        x = (self.images[index].unsqueeze(0).float() / 255 - MEAN) / STD
        return x, int(self.labels[index])
""",
    },
    "cnn": {
        "wrong flatten size (the classic 320)": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU())
        self.classifier = nn.Linear(320, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))
""",
        "softmax at the end, before CrossEntropyLoss": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU())
        self.classifier = nn.Linear(512, 10)

    def forward(self, x):
        return F.softmax(self.classifier(torch.flatten(self.features(x), 1)), dim=1)
""",
        "layers kept in a plain Python list": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Conv2d(1, 16, 5), nn.MaxPool2d(2), nn.ReLU(),
                       nn.Conv2d(16, 32, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
""",
        "flattens with .view (breaks on channels_last)": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU())
        self.classifier = nn.Linear(512, 10)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))
""",
        "the 1.2-million-parameter pytorch/examples network": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
""",
    },
    "train_one_epoch": {
        "no shuffling": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    total = 0.0
    for start in range(0, len(images), batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(x)
    return total / len(images)
""",
        "returns the mean of the batch means": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    order = torch.randperm(len(images), generator=generator).to(images.device)
    losses = []
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
""",
        "forgets optimizer.zero_grad()": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    order = torch.randperm(len(images), generator=generator).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
    return total / len(images)
""",
        "scheduler.step() before optimizer.step()": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    order = torch.randperm(len(images), generator=generator).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        if scheduler is not None:
            scheduler.step()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(images)
""",
        "draws batches with replacement (torch.randint): repeats some examples, skips others": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    total = 0.0
    for start in range(0, len(images), batch_size):
        size = min(batch_size, len(images) - start)
        idx = torch.randint(0, len(images), (size,), generator=generator).to(images.device)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * size
    return total / len(images)
""",
        "reseeds inside: the same order every epoch": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0)).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
    return total / len(images)
""",
        "images and labels shuffled with different permutations": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    image_order = torch.randperm(len(images), generator=generator).to(images.device)
    label_order = torch.randperm(len(images), generator=generator).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        loss = F.cross_entropy(model(images[image_order[start:start + batch_size]]),
                               labels[label_order[start:start + batch_size]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(image_order[start:start + batch_size])
    return total / len(images)
""",
        "DataLoader with drop_last=True: the last, smaller batch is never trained on": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    from torch.utils.data import TensorDataset
    model.train()
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True,
                        generator=generator, drop_last=True)
    total, seen = 0.0, 0
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(x)
        seen += len(x)
    return total / max(seen, 1)
""",
        "forgets model.train()": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    order = torch.randperm(len(images), generator=generator).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
    return total / len(images)
""",
    },
    "evaluate": {
        "forgets model.eval()": """
def evaluate(model, images, labels, batch_size=1000):
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            y = labels[start:start + batch_size]
            total += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return total / len(images), correct / len(images)
""",
        "averages the batch means": """
def evaluate(model, images, labels, batch_size=1000):
    was_training = model.training
    model.eval()
    losses, correct = [], 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            y = labels[start:start + batch_size]
            losses.append(F.cross_entropy(logits, y).item())
            correct += (logits.argmax(1) == y).sum().item()
    model.train(was_training)
    return sum(losses) / len(losses), correct / len(images)
""",
        "leaves the model in eval mode": """
def evaluate(model, images, labels, batch_size=1000):
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            y = labels[start:start + batch_size]
            total += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return total / len(images), correct / len(images)
""",
        "always switches back to train mode": """
def evaluate(model, images, labels, batch_size=1000):
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            y = labels[start:start + batch_size]
            total += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    model.train()
    return total / len(images), correct / len(images)
""",
        "no torch.no_grad()": """
def evaluate(model, images, labels, batch_size=1000):
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start:start + batch_size])
        y = labels[start:start + batch_size]
        total += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    model.train(was_training)
    return total / len(images), correct / len(images)
""",
    },
    "final_model": {
        "builds the model but never trains it": """
final_model = nn.Sequential(
    nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Flatten(), nn.Linear(512, 10)).to(DEVICE)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=0.01)
""",
        "the class, not a trained instance": """
class FinalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def forward(self, x):
        return self.net(x)

final_model = FinalNet
""",
        "looks the test images up on disk (nearest neighbour) and returns their labels": """
class TestSetLookup(nn.Module):
    def __init__(self):
        super().__init__()
        images, labels = load_mnist(train=False, device=DEVICE)
        self.register_buffer("keys", images.flatten(1))
        self.register_buffer("answers", labels)
        self.unused = nn.Linear(1, 1)  # a parameter, so that it looks like a model

    def forward(self, x):
        nearest = torch.cdist(x.flatten(1), self.keys).argmin(dim=1)
        return F.one_hot(self.answers[nearest], 10).float()


final_model = TestSetLookup().to(DEVICE)
""",
        "looks the test images up on disk, blurred, without the edges, over shifts of 1 pixel (no training)": """
class BlurredShiftLookup(nn.Module):
    # The label of the nearest test image. Compared blurred and without the 4 columns at each edge
    # (where the neighbours' fragments sit), over every shift of up to 1 pixel: the cheapest lookup that
    # kept up with a network trained on clean digits (92.6 %) when the hidden check only bent the digits.
    def __init__(self):
        super().__init__()
        images, labels = load_mnist(train=False, device=DEVICE)
        self.register_buffer("keys", self.canonical(images))
        self.register_buffer("answers", labels)
        self.unused = nn.Linear(1, 1)  # a parameter, so that it looks like a model

    @staticmethod
    def canonical(x):
        blurred = F.avg_pool2d(x[..., 4:24] * STD + MEAN, 3, stride=1, padding=1)
        return blurred.flatten(1)

    def nearest(self, x):
        queries = self.canonical(x)
        distance = (queries ** 2).sum(1, keepdim=True) - 2 * queries @ self.keys.T + (self.keys ** 2).sum(1)
        return distance.min(1)

    def forward(self, x):
        best, nearest = self.nearest(x)
        found = self.answers[nearest]
        moved = (best > 1e-3).nonzero().flatten()  # not on disk as they are: search the shifts
        padded = F.pad(x[moved], (1, 1, 1, 1), value=(0 - MEAN) / STD)
        for dy in range(3):
            for dx in range(3):
                distance, nearest = self.nearest(padded[:, :, dy:dy + 28, dx:dx + 28])
                closer = distance < best[moved]
                best[moved[closer]], found[moved[closer]] = distance[closer], self.answers[nearest[closer]]
        return F.one_hot(found, 10).float()


final_model = BlurredShiftLookup().to(DEVICE)
""",
        "the recipe on clean digits only (no distort_digits)": """
seed_everything(0)
images, labels = load_mnist(train=True, device=DEVICE)
final_model = nn.Sequential(
    nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Flatten(), nn.Linear(512, 10)).to(DEVICE, memory_format=torch.channels_last)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=math.ceil(60000 / 64))
final_model.train()
for idx in torch.randperm(60000, generator=torch.Generator().manual_seed(0)).to(DEVICE).split(64):
    loss = F.cross_entropy(final_model(images[idx]), labels[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
""",
        "images and labels shuffled with different permutations": """
seed_everything(0)
train_x, train_y = load_mnist(train=True, device=DEVICE)
final_model = nn.Sequential(
    nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Flatten(), nn.Linear(512, 10)).to(DEVICE, memory_format=torch.channels_last)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=math.ceil(60000 / 64))
x_order = torch.randperm(60000).to(DEVICE)
y_order = torch.randperm(60000).to(DEVICE)
final_model.train()
for begin in range(0, 60000, 64):
    loss = F.cross_entropy(final_model(train_x[x_order[begin:begin + 64]]), train_y[y_order[begin:begin + 64]])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
""",
    },
    "confusion_matrix": {
        "transposed: rows are the predictions": """
def confusion_matrix(predictions, targets, num_classes=10):
    cells = predictions * num_classes + targets
    return torch.bincount(cells, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
""",
        "bincount without minlength": """
def confusion_matrix(predictions, targets, num_classes=10):
    counts = torch.bincount(targets * num_classes + predictions)
    return counts.reshape(num_classes, -1)
""",
        "float counts from a histogram": """
def confusion_matrix(predictions, targets, num_classes=10):
    cells = (targets * num_classes + predictions).float()
    counts = torch.histc(cells, bins=num_classes * num_classes, min=0, max=num_classes * num_classes - 1)
    return counts.reshape(num_classes, num_classes)
""",
    },
    "data_parallel_gradients": {
        "the full-batch gradient (right only when the shards have equal sizes)": """
def data_parallel_gradients(model, images, labels, world_size):
    params = list(model.parameters())
    return list(torch.autograd.grad(F.cross_entropy(model(images), labels), params))
""",
        "adds the ranks' gradients instead of averaging them": """
def data_parallel_gradients(model, images, labels, world_size):
    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    for x, y in zip(images.tensor_split(world_size), labels.tensor_split(world_size)):
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params)
        total = [t + g for t, g in zip(total, grads)]
    return total
""",
        "each rank sums its losses (reduction='sum'), then the average": """
def data_parallel_gradients(model, images, labels, world_size):
    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    for x, y in zip(images.tensor_split(world_size), labels.tensor_split(world_size)):
        grads = torch.autograd.grad(F.cross_entropy(model(x), y, reduction="sum"), params)
        total = [t + g for t, g in zip(total, grads)]
    return [t / world_size for t in total]
""",
        "forgets to zero .grad between ranks": """
def data_parallel_gradients(model, images, labels, world_size):
    per_rank = []
    for x, y in zip(images.tensor_split(world_size), labels.tensor_split(world_size)):
        F.cross_entropy(model(x), y).backward()
        per_rank.append([p.grad.clone() for p in model.parameters()])
    return [torch.stack(grads).mean(0) for grads in zip(*per_rank)]
""",
    },
    "predict": {
        "forgets the batch dimension of a single image": """
def predict_digits(model, images):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probabilities = F.softmax(model(images), dim=1)
    model.train(was_training)
    return probabilities.argmax(dim=1), probabilities
""",
        "argmax over the batch (dim=0)": """
def predict_digits(model, images):
    while images.dim() < 4:
        images = images.unsqueeze(0)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probabilities = F.softmax(model(images), dim=1)
    model.train(was_training)
    return probabilities.argmax(dim=0), probabilities
""",
        "log_softmax instead of softmax": """
def predict_digits(model, images):
    while images.dim() < 4:
        images = images.unsqueeze(0)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        scores = F.log_softmax(model(images), dim=1)
    model.train(was_training)
    return scores.argmax(dim=1), scores
""",
        "forgets model.eval()": """
def predict_digits(model, images):
    while images.dim() < 4:
        images = images.unsqueeze(0)
    with torch.no_grad():
        probabilities = F.softmax(model(images), dim=1)
    return probabilities.argmax(dim=1), probabilities
""",
    },
}

# Correct answers written differently from the master (other APIs, the PyTorch documentation's way);
# each must keep full marks.
ALTERNATIVES = {
    "pixel_stats": {
        "float32 and torch.std_mean": """
def pixel_stats(images):
    std, mean = torch.std_mean(images.float() / 255, correction=0)
    return mean.item(), std.item()
""",
        "variance by hand, then its square root": """
def pixel_stats(images):
    pixels = images.double().div(255).flatten()
    mean = pixels.mean()
    return float(mean), float(((pixels - mean) ** 2).mean().sqrt())
""",
    },
    "dataset": {
        "transforms.Normalize on the scaled image, label with .item()": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images = images
        self.labels = labels
        self.transform = transform
        self.normalize = transforms.Normalize((MEAN,), (STD,))

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        x = self.normalize(self.images[index][None].float().div(255))
        if self.transform:
            x = self.transform(x)
        return x, self.labels[index].item()
""",
        "a dataclass-style dataset with reshape": """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        x = ((image.to(torch.float32) / 255.0 - MEAN) / STD).reshape(1, *image.shape)
        return (x if self.transform is None else self.transform(x)), int(self.labels[index].item())
""",
    },
    "cnn": {
        "named layers and the functional API": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))
        return self.fc(torch.flatten(x, 1))
""",
        "3x3 convolutions with padding, layers in an nn.ModuleList": """
class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, 10))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)
""",
    },
    "train_one_epoch": {
        "DataLoader over a TensorDataset with shuffle=True and the generator": """
from torch.utils.data import TensorDataset


def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True, generator=generator)
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * x.shape[0]
    return total / len(loader.dataset)
""",
        "a permutation from the generator, moved to the data's device, batches from split()": """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    total = torch.zeros((), device=images.device)
    for idx in torch.randperm(images.shape[0], generator=generator).to(images.device).split(batch_size):
        summed = criterion(model(images[idx]), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        (summed / idx.numel()).backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        total += summed.detach()
    return (total / images.shape[0]).item()
""",
        "BatchSampler over a RandomSampler": """
from torch.utils.data import BatchSampler, RandomSampler


def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    batches = BatchSampler(RandomSampler(range(len(images)), generator=generator), batch_size, drop_last=False)
    total = 0.0
    for indices in batches:
        idx = torch.tensor(indices, device=images.device)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(indices)
    return total / len(images)
""",
    },
    "evaluate": {
        "inference_mode, split() and Python sums": """
def evaluate(model, images, labels, batch_size=1000):
    mode = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.inference_mode():
        for x, y in zip(images.split(batch_size), labels.split(batch_size)):
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum())
    model.train(mode)
    return loss_sum / len(labels), correct / len(labels)
""",
        "all logits first, then one loss over the whole set": """
def evaluate(model, images, labels, batch_size=1000):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
        loss = F.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    if was_training:
        model.train()
    return loss, accuracy
""",
    },
    "final_model": {
        "a class of its own, trained through a DataLoader over a TensorDataset": """
from torch.utils.data import TensorDataset


class FastNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU())
        self.classifier = nn.Linear(512, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


torch.manual_seed(1)
train_x, train_y = load_mnist(train=True, device=DEVICE)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=64, shuffle=True,
                    generator=torch.Generator().manual_seed(1))
final_model = FastNet().to(DEVICE)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=len(loader))
final_model.train()
distortions = torch.Generator().manual_seed(1)
for x, y in loader:
    loss = F.cross_entropy(final_model(distort_digits(x, distortions, neighbours=train_x)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
""",
        "trained on 54,000 images, 6,000 kept back for validation": """
seed_everything(3)
all_x, all_y = load_mnist(train=True, device=DEVICE)
keep = torch.randperm(len(all_x), generator=torch.Generator().manual_seed(3)).to(DEVICE)
train_x, train_y = all_x[keep[:54_000]], all_y[keep[:54_000]]
val_x, val_y = all_x[keep[54_000:]], all_y[keep[54_000:]]
final_model = nn.Sequential(
    nn.Conv2d(1, 16, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Flatten(), nn.Linear(512, 10)).to(DEVICE, memory_format=torch.channels_last)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=math.ceil(54_000 / 64))
final_model.train()
distortions = torch.Generator().manual_seed(3)
for idx in torch.randperm(54_000, device=DEVICE).split(64):
    loss = F.cross_entropy(final_model(distort_digits(train_x[idx], distortions, neighbours=train_x)), train_y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
final_model.eval()
with torch.no_grad():
    print("validation accuracy", (final_model(val_x).argmax(1) == val_y).float().mean().item())
""",
    },
    "confusion_matrix": {
        "index_put_ with accumulate=True": """
def confusion_matrix(predictions, targets, num_classes=10):
    counts = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=targets.device)
    return counts.index_put_((targets, predictions), torch.ones_like(targets), accumulate=True)
""",
        "scatter_add_ into a flat vector": """
def confusion_matrix(predictions, targets, num_classes=10):
    flat = torch.zeros(num_classes * num_classes, dtype=torch.long, device=predictions.device)
    flat.scatter_add_(0, (targets * num_classes + predictions).long(), torch.ones_like(predictions, dtype=torch.long))
    return flat.view(num_classes, num_classes)
""",
    },
    "data_parallel_gradients": {
        "accumulates each rank's loss / world_size into .grad": """
def data_parallel_gradients(model, images, labels, world_size):
    model.zero_grad()
    for x, y in zip(torch.tensor_split(images, world_size), torch.tensor_split(labels, world_size)):
        (F.cross_entropy(model(x), y) / world_size).backward()
    return [p.grad.clone() for p in model.parameters()]
""",
        "one gradient per rank, stacked and averaged": """
def data_parallel_gradients(model, images, labels, world_size):
    params = list(model.parameters())
    per_rank = []
    for rank in range(world_size):
        x, y = images.tensor_split(world_size)[rank], labels.tensor_split(world_size)[rank]
        per_rank.append(torch.autograd.grad(nn.CrossEntropyLoss()(model(x), y), params))
    return [torch.stack(grads).mean(dim=0) for grads in zip(*per_rank)]
""",
        "one backward of the mean of the ranks' losses": """
def data_parallel_gradients(model, images, labels, world_size):
    shards = zip(images.tensor_split(world_size), labels.tensor_split(world_size))
    losses = torch.stack([F.cross_entropy(model(x), y) for x, y in shards])
    return list(torch.autograd.grad(losses.mean(), list(model.parameters())))
""",
    },
    "predict": {
        "reshape to (-1, 1, 28, 28), inference_mode, max over classes": """
def predict_digits(model, images):
    mode = model.training
    model.eval()
    with torch.inference_mode():
        probabilities = torch.softmax(model(images.reshape(-1, 1, 28, 28)), dim=1)
    model.train(mode)
    return probabilities.max(dim=1).indices, probabilities
""",
        "adds the missing dimensions case by case": """
def predict_digits(model, images):
    if images.dim() == 2:
        images = images[None, None]
    elif images.dim() == 3:
        images = images.unsqueeze(0)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(images)
    finally:
        model.train(was_training)
    probabilities = logits.softmax(dim=1)
    return torch.argmax(probabilities, dim=1), probabilities
""",
    },
}

# Contracts the statements state, each observed by the tests (issue 27's fairness classes).
MISTAKES["dataset"]["converts the whole image set in __init__"] = """
class DigitDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images = (images.unsqueeze(1).float() / 255 - MEAN) / STD
        self.labels, self.transform = labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        x = self.images[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])
"""
MISTAKES["predict"]["records a graph in the forward, then detaches the result"] = """
def predict_digits(model, images):
    while images.dim() < 4:
        images = images.unsqueeze(0)
    was_training = model.training
    model.eval()
    probabilities = F.softmax(model(images), dim=1).detach()
    model.train(was_training)
    return probabilities.argmax(dim=1), probabilities
"""
MISTAKES["train_one_epoch"]["draws the order from the global generator, whatever `generator` says"] = """
def train_one_epoch(model, optimizer, images, labels, batch_size, generator=None, scheduler=None):
    model.train()
    order = torch.randperm(len(images)).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
    return total / len(images)
"""
MISTAKES["evaluate"]["one forward pass over the whole set, ignoring batch_size"] = """
def evaluate(model, images, labels, batch_size=1000):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(images)
        loss = F.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(1) == labels).float().mean().item()
    model.train(was_training)
    return loss, accuracy
"""

# Mistakes whose values are right but whose method the statement rules out: only probes in the student's
# kernel see the method, so they lose exactly its share of the points (coursekit.checks.METHOD_SHARE).
METHOD = {
    "dataset": {"converts the whole image set in __init__"},
    "train_one_epoch": {"forgets model.train()"},
    "evaluate": {"no torch.no_grad()", "one forward pass over the whole set, ignoring batch_size"},
    "predict": {"records a graph in the forward, then detaches the result"},
}
