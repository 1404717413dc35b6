"""PyTorch (cuBLAS) bf16 and fp16 matmul at given shapes, timed with CUDA events,
for ratios against gemm_timing in the same device call.
usage: python3 tools/torch_matmul.py M,N,K [M,N,K ...]"""
import sys

import torch

for spec in sys.argv[1:]:
    M, N, K = (int(v) for v in spec.split(","))
    for dt in (torch.bfloat16, torch.float16):
        a = torch.randn(M, K, device="cuda", dtype=dt)
        w = torch.randn(N, K, device="cuda", dtype=dt)
        for _ in range(10):
            a @ w.T
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        s.record()
        for _ in range(50):
            a @ w.T
        e.record()
        torch.cuda.synchronize()
        ms = s.elapsed_time(e) / 50
        print(f"torch {str(dt):15s} M {M} N {N} K {K}  {ms:.4f} ms  {2 * M * N * K / ms / 1e9:.1f} TFLOP/s")
