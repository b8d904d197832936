# Types of the compiled shared/walk.pyx (its docstrings say what each function does).
import numpy as np

UINT: int
AMOUNT: int
BOOL: int

def headers(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, arity: int, most: int
) -> tuple[np.ndarray, np.ndarray]: ...
def walk(
    data: np.ndarray,
    first: np.ndarray,
    ends: np.ndarray,
    keep: np.ndarray,
    rows: np.ndarray,
    kinds: np.ndarray,
    out: np.ndarray,
) -> np.ndarray: ...
