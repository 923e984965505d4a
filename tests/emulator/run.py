"""Entry point of the emulator's commands: ``python3 run.py TOOL ARGV0 [ARGS...]``.

bin/dpip, bin/ipvsadm, bin/dpvs and bin/dpvs-emulator are /bin/sh wrappers that exec this file
with the interpreter named by DPVS_EMULATOR_PYTHON (default: python3 on PATH), passing their own
$0 as ARGV0 so that the tools print the program name the real ones would.
"""

import os
import sys


def main():
    sys.dont_write_bytecode = False  # every call is a new process: keep the compiled modules
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    tool, argv = sys.argv[1], sys.argv[2:]
    if tool == "dpip":
        from dpvs_emulator.dpip import main as tool_main
    elif tool == "ipvsadm":
        from dpvs_emulator.ipvsadm import main as tool_main
    elif tool == "dpvs":
        from dpvs_emulator.daemon import dpvs_main as tool_main
    elif tool == "dpvs-emulator":
        from dpvs_emulator.daemon import main as tool_main
    else:
        sys.stderr.write(f"run.py: unknown tool {tool!r}\n")
        return 2
    return tool_main(argv)


if __name__ == "__main__":
    sys.exit(main())
