"""Wrong answers a learner plausibly writes for 00_getting_started; each must lose the points."""
NOTEBOOK = "00_getting_started"

MISTAKES = {
    "fahrenheit": {
        "swapped factor 5/9": """
def to_fahrenheit(celsius):
    return celsius * 5 / 9 + 32
""",
        "modifies the input in place": """
def to_fahrenheit(celsius):
    celsius.mul_(9 / 5).add_(32)
    return celsius
""",
        "Python list instead of a tensor": """
def to_fahrenheit(celsius):
    return [c * 9 / 5 + 32 for c in celsius.tolist()]
""",
        "hard-codes the visible answer": """
def to_fahrenheit(celsius):
    return torch.tensor([32.0, 212.0, -40.0], device=celsius.device)
""",
    },
    "digit_counts": {
        "bincount without minlength": """
def digit_counts(labels):
    return torch.bincount(labels)
""",
        "loops only up to the largest label seen": """
def digit_counts(labels):
    return torch.stack([(labels == d).sum() for d in range(int(labels.max()) + 1)])
""",
        "float counts from a histogram": """
def digit_counts(labels):
    return torch.histc(labels.float(), bins=10, min=0, max=9)
""",
    },
}

# Correct answers a strong student or the PyTorch documentation would write instead of the
# master's; each must keep full marks.
ALTERNATIVES = {
    "fahrenheit": {
        "multiply by 1.8, then add": """
def to_fahrenheit(celsius):
    return celsius * 1.8 + 32
""",
        "torch.add with alpha": """
def to_fahrenheit(celsius):
    return torch.add(torch.full_like(celsius, 32.0), celsius, alpha=9 / 5)
""",
    },
    "digit_counts": {
        "one comparison per digit, summed": """
def digit_counts(labels):
    digits = torch.arange(10, device=labels.device)
    return (labels.unsqueeze(1) == digits).sum(dim=0)
""",
        "scatter_add into zeros": """
def digit_counts(labels):
    counts = torch.zeros(10, dtype=torch.int64, device=labels.device)
    return counts.scatter_add_(0, labels, torch.ones_like(labels))
""",
        "one-hot columns summed": """
import torch.nn.functional as F

def digit_counts(labels):
    return F.one_hot(labels, num_classes=10).sum(dim=0)
""",
    },
}
