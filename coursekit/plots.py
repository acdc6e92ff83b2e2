"""Small plotting helpers that work the same in JupyterLab and in headless grading."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch


def plot_curves(series: Mapping[str, Sequence[float]], *, xlabel: str = "step", ylabel: str = "loss",
                title: str | None = None, logy: bool = False, ax=None):
    """One line per named series (e.g. {"train": losses, "test": test_losses}); returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, values in series.items():
        ax.plot([float(v) for v in values], label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def show_images(images: torch.Tensor, titles: Sequence[str] | None = None, *, ncols: int = 8,
                cmap: str = "gray", size: float = 1.4, suptitle: str | None = None):
    """A grid of images given as (N, H, W) or (N, 1, H, W), on any device; returns the figure."""
    images = images.detach().to("cpu", torch.float32)
    if images.dim() == 4:
        images = images[:, 0]
    n = images.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
