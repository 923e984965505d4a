"""Pack the emulator into one zip, byte for byte the same for the same sources:
``python3 pack.py OUT.zip`` (run.py and dpvs_emulator/*.py, sorted, fixed timestamps, stored uncompressed).

The VM lab copies this one file to its DPVS node and unpacks it there (molecule/default/
lab_setup.yml): one transfer instead of one per file. Prints the zip's sha256.
"""

import glob
import hashlib
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def sources():
    """Paths relative to HERE, sorted: run.py and the package's modules (no caches)."""
    files = ["run.py"] + [os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "dpvs_emulator", "*.py"))]
    return sorted(files)


def pack(out):
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for rel in sources():
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with open(os.path.join(HERE, rel), "rb") as handle:
                archive.writestr(info, handle.read())
    os.replace(tmp, out)
    with open(out, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: pack.py OUT.zip\n")
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(argv[1])), exist_ok=True)
    print(pack(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
