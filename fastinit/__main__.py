"""The `fastinit` command, also run as `python -m fastinit`.

    fastinit init SPEC -o OUT      write an initialised checkpoint (safetensors)
    fastinit bench                 time fastinit against NumPy, PyTorch and memset
    fastinit config [--json]       versions, SIMD path, threads

Each subcommand is an `add_<name>` function that declares its options and a
`run_<name>` function that does the work; main() ties them together.
"""
import argparse
import json
import os
import sys
import time

import fastinit

EXAMPLE = "examples/tiny_llama.json"


class UsageError(Exception):
    """Bad input from the command line or a SPEC file: exit code 2, like argparse."""


# ---- fastinit init ----------------------------------------------------------------------

def add_init(commands):
    from . import _dtypes
    p = commands.add_parser(
        "init", help="write an initialised checkpoint (safetensors) from a SPEC",
        description="Write the tensors that SPEC describes, initialised, to safetensors "
                    "files, without holding them in memory. Each tensor gets the values of "
                    "fastinit.fill(..., seed=SEED, stream=its name).",
        epilog=f"SPEC is fastinit's JSON list of tensors ({EXAMPLE} in the source "
               f"shows one; the README describes it). A Hugging Face config.json is "
               f"recognised but not supported yet.")
    p.add_argument("spec", metavar="SPEC", help="a fastinit spec (JSON)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the .safetensors file to write, or a folder (which gets "
                        "model.safetensors, or the shards with --max-shard-size)")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="the seed, an integer in [0, 2**64) (default: the SPEC's \"seed\", "
                        "else 0)")
    p.add_argument("--dtype", choices=_dtypes.NAMES,
                   help="write every tensor in this dtype, whatever SPEC says")
    p.add_argument("--max-shard-size", type=_size, metavar="SIZE",
                   help="split into Hugging Face shards of at most SIZE (bytes, or e.g. 5GB, "
                        "500MB, 2GiB) in the folder OUT, with model.safetensors.index.json")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for the fills (default: every CPU; the values never change)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar and no summary")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(run=run_init)


def _seed(text):
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value < 1 << 64:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**64), got {value}")
    return value


def _size(text):
    from .checkpoint import parse_size
    try:
        return parse_size(text, "SIZE")
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_init(args):
    from . import _spec, checkpoint
    from ._progress import _size as size_text
    try:
        document = _spec.load(args.spec)
        if _spec.is_huggingface_config(document):
            return init_from_huggingface(args, document)
        specs, seed, metadata = _spec.parse(document, args.spec, args.dtype)
    except _spec.SpecError as error:
        raise UsageError(str(error)) from None
    seed = args.seed if args.seed is not None else (seed if seed is not None else 0)
    start = time.perf_counter()
    try:
        paths = checkpoint.save_safetensors(
            args.output, specs, seed=seed, metadata=metadata, max_shard_size=args.max_shard_size,
            threads=args.threads, progress=False if args.quiet else None,
            overwrite=args.overwrite)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    seconds = time.perf_counter() - start
    if not args.quiet:
        nbytes = sum(p.stat().st_size for p in paths)
        print(f"wrote {len(specs)} tensors, {size_text(nbytes)} in {seconds:.2f} s "
              f"({size_text(nbytes / seconds)}/s), seed {seed}:")
        for p in paths:
            print(f"  {p}")
    return 0


def init_from_huggingface(args, config):
    """`fastinit init config.json`: to be built on fastinit.torch."""
    raise UsageError(
        f"{args.spec} is a Hugging Face config.json (model_type "
        f"{config.get('model_type', '?')!r}). Initialising a model from it needs "
        f"fastinit.torch, with PyTorch and transformers, which this version of fastinit does "
        f"not have yet; describe the tensors in a fastinit spec instead (see {EXAMPLE}).")


# ---- fastinit bench ---------------------------------------------------------------------

def add_bench(commands):
    from . import _bench
    p = commands.add_parser("bench", help="time fastinit against NumPy, PyTorch and memset",
                            description=_bench.DESCRIPTION)
    _bench.add_arguments(p)
    p.set_defaults(run=_bench.run)


# ---- fastinit config --------------------------------------------------------------------

def add_config(commands):
    p = commands.add_parser("config", help="versions, SIMD path and threads",
                            description="How fastinit runs here (fastinit.get_config()).")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_config)


def run_config(args):
    config = fastinit.get_config()
    if args.json:
        print(json.dumps(config, indent=1))
    else:
        for key, value in config.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(value)
            print(f"{key}: {value}")
    return 0


# ---- the command ------------------------------------------------------------------------

SUBCOMMANDS = (add_init, add_bench, add_config)


def invoked_as():
    """How the user ran us: `fastinit` (the console script) or `python -m fastinit`."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m fastinit" if name in ("__main__.py", "-c", "") else name


def parser(prog=None):
    top = argparse.ArgumentParser(
        prog=prog or invoked_as(),
        description="Neural-network weight initialisation at memory speed, the same bits on "
                    "any number of threads.")
    top.add_argument("-V", "--version", action="version",
                     version=f"%(prog)s {fastinit.__version__}")
    commands = top.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for add in SUBCOMMANDS:
        add(commands)
    return top


def main(argv=None, prog=None):
    """Runs the command line `argv` (default: sys.argv[1:]) and returns its exit code."""
    top = parser(prog)
    args = top.parse_args(argv)
    if not hasattr(args, "run"):  # no subcommand: say what there is
        top.print_help()
        return 0
    try:
        return args.run(args)
    except UsageError as error:
        print(f"{top.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{top.prog} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{top.prog} {args.command}: interrupted", file=sys.stderr)
        return 130


def cli():
    """The `fastinit` console command (the same as python -m fastinit)."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
