"""Independent check of the `spiral` example: the TensorFlow Playground's two-spiral
training (dataset.ts, nn.ts, playground.ts) re-implemented in numpy, with numpy's own
random numbers, so it shares no code and no random stream with the Rust example.

    python3 examples/reference/spiral_playground.py [seeds] [epochs]

Prints the median test loss (mean of 0.5 (o - t)^2) of the wide 7-6-1 and the deep
7-3-3-1 tanh networks at a few epochs and how often the deep one wins; the Rust example's
medians should be of the same size.
"""
import sys
import numpy as np


def spiral(rng, num_samples=500):
    n = num_samples // 2
    pts = []
    for delta, label in ((0.0, 1.0), (np.pi, -1.0)):
        for i in range(n):
            r = i / n * 5
            t = 1.75 * i / n * 2 * np.pi + delta
            pts.append((r * np.sin(t), r * np.cos(t), label))
    pts = np.array(pts)
    rng.shuffle(pts)  # one shuffle, as the Playground
    split = len(pts) * 60 // 100
    return pts[:split], pts[split:]


def features(p):
    x, y = p[:, 0], p[:, 1]
    return np.stack([x, y, x * x, y * y, x * y, np.sin(x), np.sin(y)], axis=1)


def init(rng, shape):
    # weights Math.random() - 0.5, biases 0.1
    return [(rng.random((o, i)) - 0.5, np.full(o, 0.1)) for i, o in zip(shape[:-1], shape[1:])]


def forward(net, x):
    acts = [x]
    for w, b in net:
        acts.append(np.tanh(acts[-1] @ w.T + b))
    return acts


def loss(net, data):
    o = forward(net, features(data))[-1][:, 0]
    return np.mean(0.5 * (o - data[:, 2]) ** 2)


def train_epoch(net, train, lr=0.03, batch=10):
    x_all, t_all = features(train), train[:, 2]
    for s in range(0, len(train), batch):
        x, t = x_all[s:s + batch], t_all[s:s + batch]
        acts = forward(net, x)
        d = (acts[-1][:, 0] - t)[:, None]  # dE/do for E = 0.5 (o - t)^2
        for k in range(len(net) - 1, -1, -1):
            w, b = net[k]
            dz = d * (1 - acts[k + 1] ** 2)
            gw = dz.T @ acts[k] / len(x)
            gb = dz.mean(axis=0)
            d = dz @ w
            net[k] = (w - lr * gw, b - lr * gb)


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    checkpoints = [c for c in (100, 259, 370, 500, 1000) if c <= epochs]
    res = {"wide": {c: [] for c in checkpoints}, "deep": {c: [] for c in checkpoints}}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        train, test = spiral(rng)
        for name, shape in (("wide", [7, 6, 1]), ("deep", [7, 3, 3, 1])):
            net = init(rng, shape)
            for e in range(1, epochs + 1):
                train_epoch(net, train)
                if e in res[name]:
                    res[name][e].append(loss(net, test))
    for c in checkpoints:
        w, d = np.array(res["wide"][c]), np.array(res["deep"][c])
        print(f"epoch {c:5}: median test loss wide {np.median(w):.3f}, deep {np.median(d):.3f}, "
              f"deep wins {(d < w).sum()}/{seeds}")


if __name__ == "__main__":
    main()
