"""The `fastinit` command, also run as `python -m fastinit`.

    fastinit init SPEC -o OUT      write an initialised checkpoint (safetensors)
    fastinit bench                 time fastinit against NumPy, PyTorch and memset
    fastinit config [--json]       versions, SIMD path, threads
    fastinit propagate ...         the signal and the gradient through a deep stack, per scheme
    fastinit audit CHECKPOINT      how a checkpoint was initialised, and the traps

Each subcommand is an `add_<name>` function that declares its options and a
`run_<name>` function that does the work; main() ties them together.
"""
import argparse
import glob
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
               f"shows one; the README describes it), or a Hugging Face config.json "
               f"(with PyTorch and transformers: the model is built on the meta device and "
               f"written as its own init code would initialise it; OUT a folder loads with "
               f"from_pretrained).")
    p.add_argument("spec", metavar="SPEC", help="a fastinit spec (JSON)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the .safetensors file to write, or a folder (which gets "
                        "model.safetensors, or the shards with --max-shard-size)")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="the seed, an integer in [0, 2**64) (default: the SPEC's \"seed\", "
                        "else 0)")
    p.add_argument("--dtype", choices=_dtypes.NAMES,
                   help="write every floating-point tensor in this dtype, whatever SPEC "
                        "says (integer and bool tensors keep theirs)")
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
    try:
        document = _spec.load(args.spec)
        if _spec.is_huggingface_config(document):
            return init_from_huggingface(args, document)
        specs, seed, metadata = _spec.parse(document, args.spec, args.dtype)
    except _spec.SpecError as error:
        raise UsageError(str(error)) from None
    seed = args.seed if args.seed is not None else (seed if seed is not None else 0)
    return _write(args, f"{len(specs)} tensors", seed, lambda progress: checkpoint.save_safetensors(
        args.output, specs, seed=seed, metadata=metadata, max_shard_size=args.max_shard_size,
        threads=args.threads, progress=progress, overwrite=args.overwrite))


def init_from_huggingface(args, config):
    """`fastinit init config.json`: the model built on the meta device and written with
    its own init code by fastinit.torch.save_initialized."""
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as error:
        raise UsageError(f"{args.spec} is a Hugging Face config.json; building its model needs "
                         f"PyTorch and transformers ({error}). Describe the tensors in a "
                         f"fastinit spec instead (see {EXAMPLE}).") from None
    from .torch import _save
    seed = args.seed if args.seed is not None else 0
    dtype = getattr(torch, args.dtype) if args.dtype else None
    return _write(args, f"the {config.get('model_type')} model of {args.spec}", seed,
                  lambda progress: _save.init_from_config(
                      config, args.output, seed=seed, dtype=dtype,
                      max_shard_size=args.max_shard_size, threads=args.threads,
                      progress=progress, overwrite=args.overwrite), where=f"{args.spec}: ")


def _write(args, what, seed, write, where=""):
    """Runs write(progress) (which returns the paths written; bad input in it is a usage
    error, its message after `where`) and says what it wrote, how much and how fast."""
    from . import checkpoint
    from ._progress import _size as size_text
    start = time.perf_counter()
    try:
        paths = write(False if args.quiet else None)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{where}{error}") from None
    seconds = time.perf_counter() - start
    if not args.quiet:
        # The safetensors files, whatever their names: not the shards' index, not the
        # config.json written beside a Hugging Face model's weights.
        nbytes = sum(p.stat().st_size for p in paths
                     if p.name not in (checkpoint.INDEX_FILE, "config.json"))
        print(f"wrote {what}, {size_text(nbytes)} in {seconds:.2f} s "
              f"({size_text(nbytes / seconds)}/s), seed {seed}:")
        for p in paths:
            print(f"  {p}")
    return 0


# ---- fastinit bench ---------------------------------------------------------------------

def add_bench(commands):
    from . import _bench
    p = commands.add_parser("bench", help="time fastinit against NumPy, PyTorch and memset",
                            description=_bench.DESCRIPTION)
    _bench.add_arguments(p)
    p.add_argument("--model", nargs=argparse.REMAINDER, metavar="MODEL_OPTION",
                   help="instead, initialise a 1.1B-parameter Llama from its config with "
                        "fastinit.torch.materialize, torch and transformers, each in a fresh "
                        "process (needs torch and transformers); the options after --model "
                        "are the model benchmark's: --model --help lists them")
    p.set_defaults(run=run_bench, prog=p.prog)


def run_bench(args):
    if args.model is None:
        from . import _bench
        return _bench.run(args)
    from .torch import _bench as model_bench  # imports torch
    return model_bench.main(args.model, prog=f"{args.prog} --model")


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


# ---- fastinit propagate -----------------------------------------------------------------

def add_propagate(commands):
    from ._activations import NAMES
    p = commands.add_parser(
        "propagate", help="the std of the signal and the gradient per layer, per scheme",
        description="Send unit-variance inputs through DEPTH dense layers of WIDTH units "
                    "(weights from each scheme, biases zero, the activation after every "
                    "layer) and a unit-variance gradient back; print, per scheme, the std of "
                    "both at the start and the end and the layer where either falls below "
                    "1e-3 or grows beyond 1e3 times its start (fastinit.propagate).",
        epilog='example: %(prog)s --depth 50 --width 512 --activation relu --scheme he_normal '
               '--scheme glorot_uniform --scheme "normal:std=0.01" --plot out.png')
    p.add_argument("--depth", type=int, default=50, metavar="N",
                   help="dense layers (default 50)")
    p.add_argument("--width", type=int, default=512, metavar="N",
                   help="units per layer (default 512)")
    p.add_argument("--activation", required=True, choices=NAMES, metavar="NAME",
                   help=f"after every layer: {', '.join(NAMES)}")
    p.add_argument("--scheme", action="append", required=True, dest="schemes",
                   metavar="SCHEME", help='a scheme name, or a name with parameters such as '
                                          '"normal:std=0.01" or "he_uniform:mode=fan_out"; '
                                          'give --scheme once per scheme to compare')
    p.add_argument("--batch", type=int, default=1024, metavar="N",
                   help="inputs per batch (default 1024)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="the seed of every value: inputs, gradient, weights (default 0)")
    p.add_argument("--dtype", default="float32", metavar="DTYPE",
                   help="the dtype the weights are drawn in: float32 (default), float64, "
                        "bfloat16, float16")
    p.add_argument("--plot", metavar="PNG",
                   help="also draw the stds per layer to this PNG (needs matplotlib: "
                        "pip install 'fastinit[plot]')")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_propagate)


def run_propagate(args):
    if args.plot:  # before the work: a missing matplotlib or folder is said at once
        from .propagation import _matplotlib_figure
        try:
            _matplotlib_figure()
        except ImportError as error:
            raise UsageError(str(error)) from None
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):
            raise UsageError(f"--plot {args.plot}: the folder {folder} does not exist")
    try:
        report = fastinit.propagate(args.depth, args.width, activation=args.activation,
                                    schemes=args.schemes, batch=args.batch, seed=args.seed,
                                    dtype=args.dtype)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(json.dumps(report.to_dict()) if args.json else report)
    if args.plot:
        report.plot(args.plot)
        if not args.json:
            print(f"plot: {args.plot}")
    return 0


# ---- fastinit audit ---------------------------------------------------------------------

def add_audit(commands):
    from ._activations import NAMES
    p = commands.add_parser(
        "audit", help="how a checkpoint's tensors were initialised, and the traps",
        description="For each tensor of safetensors checkpoints: its std, largest value and "
                    "fans, the known scheme it matches, and what looks wrong (NaN or inf, "
                    "zero or constant weights, duplicated units, Glorot normal with half its "
                    "variance, and with --activation, schemes that do not suit it). The files "
                    "are memory-mapped, not loaded, and need no safetensors package "
                    "(fastinit.audit).")
    p.add_argument("paths", nargs="+", metavar="CHECKPOINT",
                   help="a .safetensors file, or a folder of them (Hugging Face's shards)")
    p.add_argument("--layout", choices=("torch", "keras"), default="torch",
                   help="where the fans sit in a shape: torch (out, in, *kernel), the layout of "
                        "nearly every safetensors checkpoint (default), or keras "
                        "(*kernel, in, out)")
    p.add_argument("--activation", choices=NAMES, metavar="NAME",
                   help=f"the network's nonlinearity ({', '.join(NAMES)}): flag the schemes "
                        f"that do not suit it")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_audit)


def _safetensors_files(paths):
    for path in paths:
        if os.path.isdir(path):
            found = sorted(glob.glob(os.path.join(path, "*.safetensors")))
            if not found:
                raise UsageError(f"{path} holds no .safetensors file")
            yield from found
        else:
            yield path


def run_audit(args):
    from ._read_safetensors import FormatError, read_safetensors
    tensors = {}
    for path in _safetensors_files(args.paths):
        try:
            found = read_safetensors(path)
        except FormatError as error:
            raise UsageError(str(error)) from None
        repeated = sorted(tensors.keys() & found.keys())
        if repeated:
            raise UsageError(f"{path} holds {', '.join(repeated[:3])}, which an earlier file "
                             f"holds too: give the files of one checkpoint")
        tensors.update(found)
    report = fastinit.audit(tensors, layout=args.layout, activation=args.activation)
    print(json.dumps(report.to_dict()) if args.json else report)
    return 0


# ---- the command ------------------------------------------------------------------------

SUBCOMMANDS = (add_init, add_bench, add_config, add_propagate, add_audit)


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
