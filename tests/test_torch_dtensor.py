"""DTensor and FSDP2: every rank fills its own shard, and the gathered tensors equal a
single-process init_module of the same model, bit for bit, with no collective.

Four processes in one process group run every case of tests/torch_dist_worker.py
for world sizes 1, 2, 3 and 4 (meshes of the first n ranks, and (2, 2) for 4): Shard on each dim (uneven shards),
Replicate, _StridedShard, 2-D meshes, bfloat16, materialize from meta, FSDP2 fully_shard of a
torch transformer and of a Hugging Face Llama, and a Hugging Face BERT (its
Embedding's padding row). The processes talk over gloo on 127.0.0.1, through a
TCPStore that this process opens on a port the OS picks.
"""
import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
dist = pytest.importorskip("torch.distributed")

import fastinit  # noqa: E402

TESTS = os.path.dirname(os.path.abspath(__file__))


WORLD = 4


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{world size: [each rank's {case: [problems]}]} from one run of WORLD processes."""
    out = tmp_path_factory.mktemp("dtensor")
    store = dist.TCPStore("127.0.0.1", 0, WORLD + 1, is_master=True, wait_for_workers=False)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_parent, TESTS]),
           "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "FASTINIT_NUM_THREADS": "1"}
    ranks = [subprocess.Popen([sys.executable, os.path.join(TESTS, "torch_dist_worker.py"),
                               str(rank), str(WORLD), str(store.port), str(out)],
                              env=env, cwd=str(out), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for rank in range(WORLD)]
    outputs = []
    try:
        for process in ranks:
            outputs.append(process.communicate(timeout=400)[0])
    finally:
        for process in ranks:
            if process.poll() is None:
                process.kill()
    for rank, process in enumerate(ranks):
        assert process.returncode == 0, f"rank {rank} failed:\n{outputs[rank][-4000:]}"
    per_rank = [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(WORLD)]
    return {size: [r[str(size)] for r in per_rank[:size]] for size in range(1, WORLD + 1)}


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_gathered_dtensors_equal_the_single_process_init(world, results):
    expected_cases = 9 + (5 if world == 4 else 0)
    for rank, result in enumerate(results[world]):
        assert len(result) == expected_cases
        failed = {case: problems for case, problems in result.items() if problems}
        assert not failed, f"rank {rank}: " + "\n".join(
            f"{case}: {' '.join(problems)}" for case, problems in failed.items())
