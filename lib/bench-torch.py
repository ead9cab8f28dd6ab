# Peer benchmark for `convnet bench`: training steps of the notebook's model with PyTorch on the
# CPU (its native NCHW layout, its fastest on CPU). Prints one JSON line {"img_s": ..., "img_per_cpu_s": ..., "threads": ...}:
# the best of `steps` timed steps after a warm-up one, wall clock and process CPU time (all threads).
# Usage: python3 lib/bench-torch.py <batch> <steps> <threads>
import json, sys, time
try:
    import torch
    from torch import nn
    batch, steps, threads = (int(a) for a in sys.argv[1:4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers, c = [], 3
    for f in (32, 64, 128, 64):
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = f
    model = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.5), nn.Linear(64 * 9 * 9, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCELoss()
    x = torch.rand(batch, 3, 150, 150)
    y = torch.randint(0, 2, (batch, 1)).float()
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    step()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
    print(json.dumps({"img_s": batch / best, "img_per_cpu_s": batch / best_cpu, "batch": batch, "steps": steps,
                      "threads": threads, "torch": torch.__version__}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
