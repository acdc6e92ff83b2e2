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
