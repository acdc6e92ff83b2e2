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
    "predict": {
        "forgets the batch dimension of a single image": """
def predict(model, images):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probabilities = F.softmax(model(images), dim=1)
    model.train(was_training)
    return probabilities.argmax(dim=1), probabilities
""",
        "argmax over the batch (dim=0)": """
def predict(model, images):
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
def predict(model, images):
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
def predict(model, images):
    while images.dim() < 4:
        images = images.unsqueeze(0)
    with torch.no_grad():
        probabilities = F.softmax(model(images), dim=1)
    return probabilities.argmax(dim=1), probabilities
""",
    },
}
