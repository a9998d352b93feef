"""One rank of the DTensor tests (tests/test_torch_dtensor.py starts 4 ranks, each in
its own process, and every case runs for world sizes 1 to 4 in that process group).

Each case builds a model, gives its parameters DTensor placements (or FSDP2's),
initialises it with fastinit.torch, gathers every parameter with full_tensor() and
compares it, bit for bit, with a single-process init_module of the same model.
The rank writes {world size: {case: [problems]}} as JSON to <out_dir>/rank<r>.json.
"""
import copy
import json
import os
import sys
import traceback


def _distribute(model, mesh, placements_of):
    from torch import nn
    from torch.distributed.tensor import distribute_tensor
    done = {}  # tied weights stay tied
    for m in model.modules():
        for key, p in list(m._parameters.items()):
            if p is not None:
                if id(p) not in done:
                    done[id(p)] = nn.Parameter(
                        distribute_tensor(p.detach(), mesh, placements_of(p)), p.requires_grad)
                m._parameters[key] = done[id(p)]
    return model


def _compare(model, reference):
    """Names whose gathered values differ from the single-process reference."""
    import torch
    from torch.distributed.tensor import DTensor
    problems = []
    expected = reference.state_dict()
    for name, value in model.state_dict().items():
        full = value.full_tensor() if isinstance(value, DTensor) else value
        if not torch.equal(full, expected[name]):
            problems.append(f"{name} differs")
    return problems


def cases(world):
    """(name, function(mesh_1d, mesh_2d) -> problems) of every case for this world size."""
    import torch
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.debug import CommDebugMode
    from torch.distributed.tensor.placement_types import _StridedShard

    import fastinit.torch as ft
    import torch_models as tm

    def reference(build, seed=5):
        model = build()
        return ft.init_module(model, seed=seed)

    def sharded(placement_of, mesh_name="1d", meta=False, build=tm.Zoo, comms_ok=False):
        def run(meshes):
            mesh = meshes[mesh_name]
            if meta:
                with torch.device("meta"):
                    model = _distribute(build(), mesh, placement_of)
            else:
                model = _distribute(build(), mesh, placement_of)
            with CommDebugMode() as comms:
                if meta:
                    ft.materialize(model, seed=5)
                else:
                    ft.init_module(model, seed=5)
            problems = _compare(model, reference(build))
            if comms.get_total_counts() and not comms_ok:
                problems.append(f"collectives during init: {comms.get_comm_counts()}")
            return problems
        return run

    def on_dim(d, *more):
        """Shard(d) (then `more` placements) where the tensor has dimension d, else Replicate."""
        def placements(p):
            first = Shard(d) if p.dim() > d else Replicate()
            return [first, *(m(p) for m in more)]
        return placements

    def fsdp2(build, hf=False):
        def run(meshes):
            from torch.distributed.fsdp import fully_shard
            with torch.device("meta"):
                model = build()
            for m in list(model.modules())[1:]:
                if type(m).__name__ in ("TransformerEncoderLayer", "LlamaDecoderLayer"):
                    fully_shard(m, mesh=meshes["1d"])
            fully_shard(model, mesh=meshes["1d"])
            with CommDebugMode() as comms:
                ft.materialize(model, seed=5)
            problems = _compare(model, reference(build))
            if comms.get_total_counts():
                problems.append(f"collectives during init: {comms.get_comm_counts()}")
            return problems
        return run

    def llama():
        from transformers import LlamaForCausalLM
        return LlamaForCausalLM(tm.tiny_llama_config())

    def bert():
        from transformers import BertForMaskedLM
        return BertForMaskedLM(tm.tiny_bert_config())

    found = {
        "shard0": sharded(on_dim(0)),
        "shard0_bfloat16": sharded(on_dim(0), build=lambda: tm.Zoo().to(torch.bfloat16)),
        "shard_last_dim": sharded(lambda p: [Shard(p.dim() - 1) if p.dim() else Replicate()]),
        "replicate": sharded(lambda p: [Replicate()]),
        "strided_shard0": sharded(lambda p: [_StridedShard(0, split_factor=2)], build=tm.even),
        "materialize_shard1": sharded(on_dim(1), meta=True),
        "fsdp2_transformer": fsdp2(tm.transformer),
        "fsdp2_hf_llama": fsdp2(llama),
        # transformers zeroes the padding row through `weight[padding_idx]`, which of a
        # DTensor is a gathered copy: that gather is transformers' own.
        "hf_bert_shard0": sharded(on_dim(0), build=bert, comms_ok=True),
    }
    if world == 4:
        found.update({
            "2d_shard0_shard1": sharded(on_dim(0, lambda p: Shard(1) if p.dim() > 1
                                                else Replicate()), "2d"),
            "2d_shard1_shard0": sharded(on_dim(1, lambda p: Shard(0)), "2d"),
            "2d_shard0_shard0": sharded(on_dim(0, lambda p: Shard(0)), "2d"),
            "2d_strided_then_shard0": sharded(
                lambda p: [_StridedShard(0, split_factor=2), Shard(0)], "2d", build=tm.even),
            "2d_replicate_shard0_meta": sharded(lambda p: [Replicate(), Shard(0)], "2d",
                                                meta=True),
        })
    return found


def main(rank, world, host, port, out_dir):
    """Runs every case for every world size 1..world, on meshes of the first ranks
    (one process group for all, so that torch is imported once per process)."""
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    import datetime
    import warnings

    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import DeviceMesh
    warnings.filterwarnings("ignore", message="DTensor random operators")
    store = dist.TCPStore(host, port, world + 1, is_master=False,
                          timeout=datetime.timedelta(seconds=120))
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=120))
    results = {}
    for size in range(1, world + 1):
        # Every rank takes part in making every mesh (it makes process groups).
        meshes = {"1d": DeviceMesh("cpu", torch.arange(size))}
        if size == 4:
            meshes["2d"] = DeviceMesh("cpu", torch.arange(4).reshape(2, 2))
        if rank >= size:
            continue
        results[size] = {}
        for name, run in cases(size).items():
            try:
                results[size][name] = run(meshes)
            except Exception:  # reported by the test, which shows the traceback
                results[size][name] = [traceback.format_exc()]
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(results, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    rank, world, port = map(int, sys.argv[1:4])
    main(rank, world, "127.0.0.1", port, sys.argv[4])
