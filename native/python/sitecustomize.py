# IPC Scope: the Python file:line of each traced call (docs/model.md, "Python targets").
# The launcher puts this directory first on PYTHONPATH. Under the shim (libipcscope.so preloaded, IPCSCOPE set) it
# installs the shim's C profile hook for the main thread and, through threading.setprofile, for each new thread.
# Then it steps aside: its directory leaves sys.path and the sitecustomize it hid (the user's or the distro's) runs.
# It never raises: on any failure it says so in one line on stderr and the script runs without Python locations.
import os
import sys


def _ipcscope_chain():
    # The sitecustomize this one hid, found on the path without our directory and run under the same name.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    import importlib.machinery
    import importlib.util
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


def _ipcscope_install():
    if not os.environ.get("IPCSCOPE") or not os.environ.get("LD_PRELOAD"):
        return  # not under the shim (its file name may differ: IPCSCOPE_SHIM)
    import ctypes
    # PyDLL, not CDLL: the call keeps the GIL, which PyEval_SetProfile needs.
    lib = ctypes.PyDLL(None)
    try:
        install = lib.ipcscope_python_install
        install_thread = lib.ipcscope_python_install_thread
    except AttributeError:
        return  # LD_PRELOAD names a shim without the Python hook (or it failed to load)
    install.argtypes = [ctypes.c_char_p]
    install.restype = ctypes.c_int
    install_thread.argtypes = []
    install_thread.restype = ctypes.c_int
    # Not the user's code: the standard library (os.py's directory holds it and lib-dynload) and this directory.
    excluded = [os.path.dirname(os.path.abspath(os.__file__)), os.path.dirname(os.path.abspath(__file__))]
    rc = install("\n".join(excluded).encode("utf-8", "surrogateescape"))
    if rc < 0:
        sys.stderr.write("ipcscope: this Python lacks PyFrame_GetCode/PyEval_SetProfile (3.9 or later is needed); "
                         "Python file:line not recorded\n")
        return
    if rc != 0:
        return  # the shim is not tracing this process

    import threading

    def thread_hook(frame, event, arg):
        # Runs once per new thread, as that thread's first profile event: the C hook replaces it.
        if install_thread() != 0:
            sys.setprofile(None)

    threading.setprofile(thread_hook)


try:
    _ipcscope_install()
except Exception as e:  # noqa: BLE001 — the traced program must run whatever happens here
    try:
        sys.stderr.write(f"ipcscope: Python file:line not recorded ({type(e).__name__}: {e})\n")
    except Exception:
        pass
try:
    _ipcscope_chain()
except Exception as e:  # noqa: BLE001
    try:
        sys.stderr.write(f"ipcscope: the sitecustomize after IPC Scope's failed ({type(e).__name__}: {e})\n")
    except Exception:
        pass
