"""Read the DPVS v1.10.2 transcripts (the ground truth the parsers are tested on).

A transcript file holds one command's exact stdout, stderr and exit code::

    # command: dpip -s addr show
    # exit_code: 0
    # env: ...
    # stdout_bytes: 604 (ends_with_newline=yes)  stderr_bytes: 0 (ends_with_newline=yes)
    # format: ...
    ===== STDOUT =====
    <exactly stdout_bytes bytes>[one added "\\n" when ends_with_newline=no]
    ===== STDERR =====
    <exactly stderr_bytes bytes>[one added "\\n" when ends_with_newline=no]
    ===== END =====

``load(name)`` returns the streams byte-exact (the added newline removed, the byte
counts checked); ``sequence()`` lists ``SEQUENCE.tsv`` (file, exit code, command)
in run order. The folder comes from ``tests/conftest.py``'s ``TRANSCRIPTS``.
"""

import collections
import os
import re

try:  # under pytest, conftest is importable as a module of the rootdir
    from conftest import TRANSCRIPTS
except ImportError:  # pragma: no cover - imported from elsewhere
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "_dpvs_conftest", os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    )
    _conftest = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_conftest)
    TRANSCRIPTS = _conftest.TRANSCRIPTS

Transcript = collections.namedtuple("Transcript", "command exit_code stdout stderr")
SequenceEntry = collections.namedtuple("SequenceEntry", "file exit_code command")

# "# stdout_bytes: 604 (ends_with_newline=yes)  stderr_bytes: 0 (ends_with_newline=yes)"
BYTES_RE = re.compile(
    rb"^# stdout_bytes: (?P<out>\d+) \(ends_with_newline=(?P<out_nl>yes|no)\)\s+"
    rb"stderr_bytes: (?P<err>\d+) \(ends_with_newline=(?P<err_nl>yes|no)\)\s*$",
    re.M,
)
# "# command: dpip -s addr show"
COMMAND_RE = re.compile(rb"^# command: (?P<cmd>.*)$", re.M)
# "# exit_code: 0"
EXIT_RE = re.compile(rb"^# exit_code: (?P<rc>-?\d+)\s*$", re.M)

STDOUT_MARK = b"===== STDOUT =====\n"
STDERR_MARK = b"===== STDERR =====\n"
END_MARK = b"===== END =====\n"


class TranscriptFormatError(ValueError):
    pass


def path(name):
    return os.path.join(TRANSCRIPTS, name)


def _stream(data, start, size, added_newline, next_mark, name):
    body = data[start:start + size]
    pos = start + size
    if added_newline:
        if data[pos:pos + 1] != b"\n":
            raise TranscriptFormatError(f"{name}: missing the added newline")
        pos += 1
    if data[pos:pos + len(next_mark)] != next_mark:
        raise TranscriptFormatError(
            f"{name}: byte count does not end at {next_mark.strip()!r}"
        )
    return body, pos + len(next_mark)


def load(name):
    """Load one transcript file (a name from SEQUENCE.tsv, e.g. ``88-dpip-s-addr-show.txt``)."""
    with open(path(name), "rb") as handle:
        data = handle.read()
    counts = BYTES_RE.search(data)
    command = COMMAND_RE.search(data)
    exit_code = EXIT_RE.search(data)
    if not (counts and command and exit_code):
        raise TranscriptFormatError(f"{name}: incomplete header")
    start = data.find(STDOUT_MARK)
    if start < 0:
        raise TranscriptFormatError(f"{name}: no STDOUT marker")
    stdout, pos = _stream(
        data, start + len(STDOUT_MARK), int(counts.group("out")),
        counts.group("out_nl") == b"no", STDERR_MARK, name,
    )
    stderr, pos = _stream(
        data, pos, int(counts.group("err")),
        counts.group("err_nl") == b"no", END_MARK, name,
    )
    return Transcript(
        command=command.group("cmd").decode("utf-8"),
        exit_code=int(exit_code.group("rc")),
        stdout=stdout.decode("utf-8"),
        stderr=stderr.decode("utf-8"),
    )


def sequence():
    """``SEQUENCE.tsv`` as a list of ``(file, exit_code, command)`` in run order."""
    entries = []
    with open(path("SEQUENCE.tsv"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines[1:]:  # header: file, exit, command
        if not line.strip():
            continue
        file_name, exit_code, command = line.split("\t", 2)
        entries.append(SequenceEntry(file_name, int(exit_code), command))
    return entries


def find(pattern, exit_code=0):
    """File names whose command fully matches the regex ``pattern`` (and exit code)."""
    regex = re.compile(pattern)
    return [
        entry.file
        for entry in sequence()
        if regex.fullmatch(entry.command) and (exit_code is None or entry.exit_code == exit_code)
    ]
