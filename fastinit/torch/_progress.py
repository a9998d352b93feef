"""Progress of a long initialisation: False, True (a line on stderr) or a callable
of (bytes_done, bytes_total)."""
import sys
import time


def reporter(progress, total, label):
    if progress is False or progress is None:
        return _Silent()
    if progress is True:
        return _Line(total, label)
    if callable(progress):
        return _Callback(progress, total)
    raise TypeError(f"progress must be True, False or a function of (bytes_done, "
                    f"bytes_total); got {progress!r}")


class _Silent:
    def update(self, done):
        pass

    def close(self):
        pass


class _Callback(_Silent):
    def __init__(self, function, total):
        self.function, self.total = function, total

    def update(self, done):
        self.function(done, self.total)


class _Line(_Silent):
    def __init__(self, total, label):
        self.total, self.label, self.start, self.last = total, label, time.monotonic(), 0.0

    def update(self, done, force=False):
        now = time.monotonic()
        if force or now - self.last >= 0.2:
            self.last = now
            print(f"\r{self.label}: {done / 1e9:.2f} / {self.total / 1e9:.2f} GB, "
                  f"{now - self.start:.1f} s", end="", file=sys.stderr, flush=True)

    def close(self):
        print(file=sys.stderr)
