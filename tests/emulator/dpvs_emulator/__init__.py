"""A stateful stand-in for the DPVS v1.10.2 control plane (dpip, ipvsadm, dpvs).

Every tool invocation is a short Python process: it locks the state file named by
``DPVS_EMULATOR_STATE``, reads it, acts as the real tool plus the daemon would, and
writes the state back atomically. See ``tests/emulator/README.md``.
"""
