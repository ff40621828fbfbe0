"""Child side of ``speed.py``: one measurement per fresh process (see ``speed.py`` for what each
measures). ``infer``, ``train`` and ``variants`` as before; ``tile`` times one forward pass of a
(1, 1, T, T) LR tile (channels-last, ``torch.inference_mode``, what tiled prediction runs per tile)
with the default PyTorch path, the ONNX Runtime backend (``onnx``) or, for the Fourier-attention
models, the attention as it was computed before ``models/fourier.py`` (``before``,
:mod:`_fourier_before`).
"""

from __future__ import annotations

import time

from _common import flops_of, peak_rss_mib, time_partial_tiled


def build(impl: str, name: str, scale: int, tiny: bool = False):
    import torch

    torch.manual_seed(0)
    if impl == "basicsr":
        from _basicsr import create_basicsr

        return create_basicsr(name, scale), False
    from microsr.models import create_model, get_spec

    model = create_model(name, scale=scale, tiny=tiny)  # masks only where prediction takes one
    return model, get_spec(name).mask_input


def forward_fn(model, needs_mask: bool, scale: int):
    """model(x) for plain models, model(x, random one-hot mask) for mask-conditioned ones."""
    import torch
    import torch.nn.functional as F

    from microsr.models.outputs import final_output

    def fwd(x):
        if not needs_mask:
            return final_output(model(x))
        b, _, h, w = x.shape
        labels = torch.randint(0, 3, (b, scale * h, scale * w))
        mask = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()
        return final_output(model(x, mask))

    return fwd


def child_infer(a) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    model.eval()
    fwd = forward_fn(model, needs_mask, a.scale)
    per_px = flops_of(fwd, torch.rand(1, 1, 32, 32)) / 32**2
    with torch.inference_mode():
        fwd(torch.rand(1, 1, 32, 32))  # warm-up
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    cond = None
    if needs_mask:
        lab = np.random.default_rng(1).integers(0, 3, (a.scale * a.size,) * 2)
        cond = np.eye(3, dtype=np.float32)[lab].transpose(2, 0, 1)
    timing = time_partial_tiled(
        model, image, a.scale, tile=a.tile, overlap=a.overlap, max_tiles=a.max_tiles, cond=cond
    )
    seconds, measured = timing["seconds"], timing["measured_s"]
    from microsr.inference.tiling import choose_tile

    tile = min(choose_tile(a.tile), a.size)
    gflops = per_px * tile**2 * timing["tiles_run"] / measured / 1e9
    return {
        "flops_per_px": per_px,
        "params": sum(p.numel() for p in model.parameters()),
        "tiles_run": timing["tiles_run"],
        "tiles_total": timing["tiles_total"],
        "complete": timing["complete"],
        "seconds": seconds,
        "mp_per_s": a.size**2 / 1e6 / seconds,
        "gflop_per_s": gflops,
        "peak_rss_mib": peak_rss_mib(),
    }


def child_train(a) -> dict:
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    if not any(p.requires_grad for p in model.parameters()):
        return {"train_steps_per_s": None}
    model.train()
    fwd = forward_fn(model, needs_mask, a.scale)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(a.batch, 1, a.patch, a.patch, generator=g)
    hr = torch.rand(a.batch, 1, a.scale * a.patch, a.scale * a.patch, generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.l1_loss(fwd(lr), hr)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.train_steps):
        step()
    dt = time.perf_counter() - t0
    return {"train_steps_per_s": a.train_steps / dt, "train_peak_rss_mib": peak_rss_mib()}


def _time(fn, x, repeats: int) -> float:
    fn(x)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t0)
    return best


def child_variants(a) -> dict:
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    model.eval()
    x = torch.rand(1, 1, a.variant_tile, a.variant_tile)
    cl = torch.channels_last
    out = {}

    def run(label, ctx, memfmt, fn=None, autocast=False):
        model.to(memory_format=memfmt)
        f = fn or forward_fn(model, needs_mask, a.scale)
        xi = x.contiguous(memory_format=memfmt)

        def call(inp):
            with ctx(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                return f(inp)

        try:
            out[label] = _time(call, xi, a.repeats)
        except Exception as exc:  # noqa: BLE001 - report, do not stop the benchmark
            out[label] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"

    run("no_grad", torch.no_grad, torch.contiguous_format)
    run("no_grad+channels_last", torch.no_grad, cl)
    run("inference_mode", torch.inference_mode, torch.contiguous_format)
    run("inference_mode+channels_last", torch.inference_mode, cl)
    run("bf16_autocast+inference_mode+channels_last", torch.inference_mode, cl, autocast=True)
    with torch.inference_mode():  # how far bfloat16 autocast moves the output (relative to its range)
        model.to(memory_format=torch.contiguous_format)
        ref = forward_fn(model, needs_mask, a.scale)(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = forward_fn(model, needs_mask, a.scale)(x).float()
        out["bf16_max_rel_diff"] = float((low - ref).abs().max() / (ref.max() - ref.min()))
    if a.compile:
        model.to(memory_format=cl)
        t0 = time.perf_counter()
        compiled = torch.compile(forward_fn(model, needs_mask, a.scale))
        try:
            with torch.inference_mode():
                compiled(x.contiguous(memory_format=cl))
            out["compile_seconds"] = time.perf_counter() - t0
            run("compile+inference_mode+channels_last", torch.inference_mode, cl, fn=compiled)
        except Exception as exc:  # noqa: BLE001
            out["compile+inference_mode+channels_last"] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
    out["variant_tile"] = a.variant_tile
    return out


def _onnx_module(model, scale: int, cache: str):
    """ONNX Runtime module of ``model`` through the product's backend code, exported once per
    model into ``cache`` (the 256 px child reuses the 128 px child's export)."""
    from pathlib import Path

    import torch

    from microsr.export.backends import FinalImage
    from microsr.export.importer import OnnxModule
    from microsr.export.weights import save_onnx

    path = Path(cache) / f"{model.__class__.__name__}-{sum(p.numel() for p in model.parameters())}.onnx"
    t0 = time.perf_counter()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_onnx(FinalImage(model).eval(), torch.rand(1, 1, 64, 64), path, "input", "output")
    return OnnxModule(path.read_bytes(), threads=torch.get_num_threads()), time.perf_counter() - t0


def _best(fwd, x, repeats: int, single_above: float) -> float:
    import torch

    with torch.inference_mode():
        fwd(torch.rand(1, 1, 32, 32).contiguous(memory_format=torch.channels_last))  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fwd(x)
            best = min(best, time.perf_counter() - t0)
            if best > single_above:  # one pass is enough for slow models
                break
    return best


def child_tile(a) -> dict:
    """Per model, for every tile in ``a.tiles`` and backend in ``a.backends``: the best time of
    ``a.repeats`` forwards of a (1, 1, T, T) tile after a 32 px warm-up; FLOPs per LR pixel by
    FlopCounterMode (FFTs not counted) on a 32 px input, scaled per pixel. One process per model
    (starting Python and torch takes seconds on a loaded machine)."""
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build("microsr", a.model, a.scale, a.tiny)
    model.eval()
    per_px = flops_of(forward_fn(model, needs_mask, a.scale), torch.rand(1, 1, 32, 32)) / 32**2
    rows = []
    for backend in a.backends:
        row: dict = {"backend": backend}
        if backend == "before":
            from _fourier_before import use_before

            if not use_before(model):
                continue
        if backend == "onnx" and needs_mask:
            rows.append({**row, "skipped": "takes a parsing map"})
            continue
        if backend == "onnx":
            fwd, row["onnx_export_s"] = _onnx_module(model, a.scale, a.onnx_cache)
        else:  # as predict_tiled runs it: batch norms folded (inference/fusion.py), channels-last
            from microsr.inference.fusion import fold_batch_norm

            folded = fold_batch_norm(model).to(memory_format=torch.channels_last)
            fwd = forward_fn(folded, needs_mask, a.scale)
        for tile in a.tiles:
            x = torch.rand(1, 1, tile, tile).contiguous(memory_format=torch.channels_last)
            try:
                sec = _best(fwd, x, a.repeats, a.single_above)
                rows.append(
                    {**row, "tile": tile, "seconds": sec, "gflop_per_s": per_px * tile**2 / sec / 1e9}
                )
            except Exception as exc:  # noqa: BLE001 - report, do not stop the benchmark
                rows.append({**row, "tile": tile, "error": f"{type(exc).__name__}: {str(exc)[:150]}"})
        if backend == "before":
            model = build("microsr", a.model, a.scale, a.tiny)[0].eval()  # today's code again
    return {"flops_per_px": per_px, "rows": rows}
