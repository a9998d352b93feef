"""Times fastinit against JAX's and Keras' own initialisation of a large model, on the CPU.

    python benchmarks/bench_jax.py                  # ~500M-parameter Flax MLP and transformer
    python benchmarks/bench_jax.py --params 1e8 --repeat 3 --json
    python benchmarks/bench_jax.py --keras-backend torch  # Keras' part under another backend

Flax: the model's own ``jax.jit(model.init)`` (compile once, then run; both times reported)
against ``fastinit.flax.init_params`` on the tree of ``jax.eval_shape(model.init, ...)``
(eval_shape included), with rules that give every parameter the scheme of the model's
own initializer (Dense kernels: lecun_normal, truncated; biases: zeros; LayerNorm scales:
ones; embeddings: Flax's variance_scaling(1, fan_in, normal, in_axis=-1, out_axis=0)).
Both use every CPU of this process (XLA's thread pool; fastinit's default threads).

Keras: building a Sequential MLP of about the same size with Keras' default initializers
(GlorotUniform kernels, Zeros biases) against the same model with
fastinit.keras.Initializer("glorot_uniform") and ("zeros").

Each figure is the median of --repeat runs (compilation: once). Every model is freed
before the next is made: peak memory is about twice the model (one float32 copy while
the next is being made) plus what JAX's own init needs.
"""
import argparse
import gc
import json
import math
import os
import statistics
import sys
import time


def timed(fn, repeat):
    """(median seconds, last result) of `repeat` calls of fn."""
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def power_of_two(x):
    return 2 ** max(3, round(math.log2(x)))


def mlp_size(params):
    """(width, depth) of an MLP of about `params` parameters: 8192 wide for 5e8."""
    width = power_of_two(math.sqrt(params / 8))
    return width, max(1, round(params / (width * width)))


def flax_models(params):
    """{name: (module, example input)} with about `params` parameters each."""
    import jax.numpy as jnp
    from flax import linen as nn

    class MLP(nn.Module):
        width: int
        depth: int

        @nn.compact
        def __call__(self, x):
            for _ in range(self.depth):
                x = nn.relu(nn.Dense(self.width)(x))
            return x

    class Block(nn.Module):
        d: int

        @nn.compact
        def __call__(self, x):
            h = nn.LayerNorm()(x)
            q, k, v = jnp.split(nn.Dense(3 * self.d)(h), 3, axis=-1)
            attention = nn.softmax(q @ k.swapaxes(-1, -2) / math.sqrt(self.d)) @ v
            x = x + nn.Dense(self.d)(attention)
            h = nn.LayerNorm()(x)
            return x + nn.Dense(self.d)(nn.gelu(nn.Dense(4 * self.d)(h)))

    class Transformer(nn.Module):
        vocab: int
        d: int
        layers: int

        @nn.compact
        def __call__(self, tokens):
            x = nn.Embed(self.vocab, self.d)(tokens)
            for _ in range(self.layers):
                x = Block(self.d)(x)
            return nn.LayerNorm()(x)

    width, depth = mlp_size(params)
    mlp = MLP(width, depth)
    d = power_of_two(math.sqrt(params / 96))  # 2048 for 5e8
    vocab = 16 * d
    transformer = Transformer(vocab, d, max(1, round((params - vocab * d) / (12 * d * d))))
    return {"mlp": (mlp, jnp.ones((1, width))),
            "transformer": (transformer, jnp.ones((1, 8), jnp.int32))}


# fastinit's rules for the schemes of Flax's default initializers.
FLAX_DEFAULTS = [
    ("*/kernel", "lecun_normal"),   # nn.Dense: lecun_normal(), which JAX truncates
    ("*/bias", "zeros"),
    ("*/scale", "ones"),             # nn.LayerNorm
    ("*/embedding", ("variance_scaling", {"scale": 1.0, "mode": "fan_in",
                                           "distribution": "normal", "in_axis": -1,
                                           "out_axis": 0})),  # nn.Embed's default
]


def bench_flax(params, repeat):
    import jax
    import fastinit.flax

    rows = []
    for name, (model, x) in flax_models(params).items():
        key = jax.random.key(0)
        start = time.perf_counter()
        compiled = jax.jit(model.init).lower(key, x).compile()
        compile_s = time.perf_counter() - start
        run_s, out = timed(lambda: jax.block_until_ready(compiled(key, x)), repeat)
        count = sum(leaf.size for leaf in jax.tree.leaves(out))
        del out

        def ours():
            shapes = jax.eval_shape(model.init, key, x)["params"]
            return jax.block_until_ready(
                fastinit.flax.init_params(shapes, seed=0, rules=FLAX_DEFAULTS))

        fastinit_s, out = timed(ours, repeat)
        assert sum(leaf.size for leaf in jax.tree.leaves(out)) == count
        del out
        rows.append({"model": f"flax {name}", "params": count, "jax_compile_s": compile_s,
                     "jax_run_s": run_s, "fastinit_s": fastinit_s})
    return rows


def bench_keras(params, repeat, backend):
    os.environ["KERAS_BACKEND"] = backend
    import keras
    import fastinit.keras

    width, depth = mlp_size(params)

    def build(kernel, bias):
        model = keras.Sequential([keras.Input((width,))] + [
            keras.layers.Dense(width, kernel_initializer=kernel, bias_initializer=bias)
            for _ in range(depth)])
        if backend == "jax":  # JAX computes asynchronously: wait for the values
            import jax
            jax.block_until_ready([weight.value for weight in model.weights])
        return model

    own_s, model = timed(lambda: build("glorot_uniform", "zeros"), repeat)
    count = model.count_params()
    del model
    ours_s, model = timed(lambda: build(fastinit.keras.Initializer("glorot_uniform", seed=0),
                                        fastinit.keras.Initializer("zeros", seed=0)), repeat)
    assert model.count_params() == count
    del model
    return [{"model": f"keras mlp ({backend})", "params": count, "keras_s": own_s,
             "fastinit_s": ours_s}]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", type=float, default=5e8,
                        help="about how many parameters each model has (default 5e8)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--keras-backend", default="jax", help="jax (default), torch, numpy")
    parser.add_argument("--skip", choices=["flax", "keras"], action="append", default=[])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    rows = []
    if "flax" not in args.skip:
        rows += bench_flax(args.params, args.repeat)
    if "keras" not in args.skip:
        rows += bench_keras(args.params, args.repeat, args.keras_backend)
    if args.json:
        print(json.dumps({"cpus": len(os.sched_getaffinity(0)), "rows": rows}, indent=1))
        return 0
    print(f"CPUs: {len(os.sched_getaffinity(0))}; seconds, median of {args.repeat}")
    for row in rows:
        if "jax_run_s" in row:
            with_compile = row["jax_compile_s"] + row["jax_run_s"]
            print(f"{row['model']:>24} {row['params'] / 1e6:7.0f}M params: jit(init) "
                  f"{row['jax_run_s']:.2f} s + compile {row['jax_compile_s']:.2f} s; "
                  f"fastinit.flax.init_params {row['fastinit_s']:.2f} s: "
                  f"{row['jax_run_s'] / row['fastinit_s']:.1f}x faster "
                  f"({with_compile / row['fastinit_s']:.1f}x with compile)")
        else:
            print(f"{row['model']:>24} {row['params'] / 1e6:7.0f}M params: build with Keras' "
                  f"initializers {row['keras_s']:.2f} s, with fastinit's "
                  f"{row['fastinit_s']:.2f} s: {row['keras_s'] / row['fastinit_s']:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
