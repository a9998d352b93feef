"""The model benchmark runs end to end (on a tiny Llama, each method in its own process)
and reports what it promises: seconds, bytes, peak RSS, fastinit's refill."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
from fastinit.torch import _bench  # noqa: E402

TINY = {**_bench.LLAMA_1B, "hidden_size": 64, "num_hidden_layers": 1, "intermediate_size": 96,
        "vocab_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2}


def test_model_bench_measures_each_method_in_its_own_process():
    results = [_bench.run(method, "float32", 1, TINY) for method in _bench.METHODS]
    sizes = {(r["bytes"], r["parameters"]) for r in results}
    assert len(sizes) == 1, "every method builds the same model"
    for r in results:
        assert r["total_s"] >= r["init_s"] > 0 and r["peak_rss_mib"] >= r["baseline_rss_mib"] > 0
    assert results[0]["refill_s"] > 0
    text = _bench.table(results)
    assert "| float32 | fastinit |" in text and "touched memory" in text and "transformers" in text
    assert "| float32 | memset |" in text  # the physical limit, measured the same way
