"""`fastinit bench [options]` or `python -m fastinit bench [options]`: time fastinit against NumPy and memset.
`python -m fastinit config`: print get_config()."""
import sys

import fastinit


def main(argv):
    command, rest = (argv[0], argv[1:]) if argv else ("bench", [])
    if command == "bench":
        from fastinit import _bench
        return _bench.main(rest)
    if command == "config":
        for key, value in fastinit.get_config().items():
            print(f"{key}: {value}")
        return 0
    print(f"usage: python -m fastinit [bench|config] ...; unknown command {command!r}",
          file=sys.stderr)
    return 2


def cli():
    """The `fastinit` console command (same as python -m fastinit)."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    cli()
