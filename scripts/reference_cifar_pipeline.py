"""The article's section-4 recipe written the plain way, independent of the package: the
yardstick for `train --algorithm finetune --finetune-mode seed`.

torchvision transforms per image (RandomHorizontalFlip, RandomCrop(32, padding=4), Normalize 0.5)
in a DataLoader (batches of 100, shuffled), the LeNet-style net of the PyTorch CIFAR tutorial,
SGD lr 0.001 momentum 0.9, 10 epochs; then one epoch of fine-tuning on 1000 training images
(seeded random, or `--first` for the article's `Subset(range(1000))`); accuracy on the test images
before and after. Reads the JPEG copy's zip directly. Prints one JSON line.

    python scripts/reference_cifar_pipeline.py \
        --zip ../shared/data/cifar10-images/cifar10-images.zip
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
import zipfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import transforms


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))


class Images(Dataset):
    def __init__(self, images: list[Image.Image], labels: list[int], transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), self.labels[i]


def read(path: str) -> dict[str, tuple[list[Image.Image], list[int]]]:
    member = re.compile(r"(train|test)/([^/]+)/[^/]+\.jpg$")
    rows = {"train": [], "test": []}
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if m := member.search(name):
                img = Image.open(io.BytesIO(z.read(name))).convert("RGB")
                rows[m.group(1)].append((m.group(2), img))
    classes = sorted({c for c, _ in rows["train"]})
    return {p: ([i for _, i in r], [classes.index(c) for c, _ in r]) for p, r in rows.items()}


def accuracy(net: nn.Module, loader: DataLoader) -> float:
    net.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in loader:
            right += int((net(x).argmax(1) == y).sum())
            total += len(y)
    net.train()
    return right / total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zip", default="../shared/data/cifar10-images/cifar10-images.zip")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--first", action="store_true", help="fine-tune on the first 1000 images")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    norm = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    train_tf = transforms.Compose(
        [
            transforms.RandomHorizontalFlip(),
            transforms.RandomCrop(32, padding=4),
            transforms.ToTensor(),
            norm,
        ]
    )
    test_tf = transforms.Compose([transforms.ToTensor(), norm])
    started = time.perf_counter()
    data = read(args.zip)
    read_seconds = time.perf_counter() - started
    train = Images(*data["train"], train_tf)
    test = DataLoader(Images(*data["test"], test_tf), batch_size=500)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    def epoch(dataset) -> float:
        losses = []
        for x, y in DataLoader(dataset, batch_size=100, shuffle=True):
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        return float(np.mean(losses))

    t0 = time.perf_counter()
    losses = [epoch(train) for _ in range(args.epochs)]
    train_seconds = time.perf_counter() - t0
    before = accuracy(net, test)
    g = torch.Generator().manual_seed(args.seed)
    picked = range(1000) if args.first else torch.randperm(len(train), generator=g)[:1000].tolist()
    finetune_loss = epoch(Subset(train, list(picked)))
    after = accuracy(net, test)
    print(
        json.dumps(
            {
                "test_accuracy_pretrained": before,
                "test_accuracy_finetuned": after,
                "epoch_seconds": train_seconds / args.epochs,
                "read_seconds": read_seconds,
                "loss_by_epoch": losses,
                "finetune_loss": finetune_loss,
                "finetune_subset": "first" if args.first else "random",
            }
        )
    )


if __name__ == "__main__":
    main()
