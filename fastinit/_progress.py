"""Progress of a long write: a bar on stderr, or the caller's own function.

tqdm draws the bar when it is installed (the `fastinit[progress]` extra): it is
what Hugging Face downloads show, it draws a widget in notebooks, and it obeys
TQDM_DISABLE. Without it a one-line bar of our own says the same things (bytes,
rate, time left), so the core needs nothing beyond NumPy.
"""
import sys
import time


def reporter(progress, total, label):
    """An object with update(bytes_done) and close(), for `progress=` of a writer.

    progress : None (a bar when stderr is a terminal), True, False, or a callable
        that receives (bytes_done, bytes_total).
    """
    if progress is None:
        progress = _is_terminal(sys.stderr)
    if progress is False:
        return _Silent()
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return Bar(total, label, sys.stderr)
        return _Tqdm(tqdm(total=total, desc=label, unit="B", unit_scale=True,
                          unit_divisor=1000, file=sys.stderr, leave=True))
    if callable(progress):
        return _Callback(progress, total)
    raise TypeError(f"progress must be True, False, None (a bar when stderr is a terminal) "
                    f"or a function of (bytes_done, bytes_total); got {progress!r}")


def _is_terminal(stream):
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


def _size(n):
    """A byte count in decimal units, as disks and `ls -h --si` count them."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000


def _duration(seconds):
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Bar:
    """A one-line bar: label, percent, bytes written of total, rate, time left.

    Redrawn at most every `interval` seconds (and once at the end), so that
    thousands of small tensors do not flood a slow terminal.
    """

    def __init__(self, total, label, stream, interval=0.2, clock=time.monotonic):
        self.total, self.label, self.stream = total, label, stream
        self.interval, self.clock = interval, clock
        self.start = self.last = clock()
        self.done = 0
        self.width = 0

    def line(self, done, now):
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        percent = 100.0 * done / self.total if self.total else 100.0
        left = (_duration((self.total - done) / rate) if rate > 0 and done < self.total
                else "0:00" if done >= self.total else "?")
        return (f"{self.label}: {percent:3.0f}% {_size(done)} / {_size(self.total)}, "
                f"{_size(rate)}/s, {left} left")

    def _draw(self, now):
        text = self.line(self.done, now)
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def update(self, done):
        self.done = done
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._draw(now)

    def close(self):
        self._draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()


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


class _Tqdm(_Silent):
    def __init__(self, bar):
        self.bar = bar

    def update(self, done):
        self.bar.update(done - self.bar.n)

    def close(self):
        self.bar.close()
