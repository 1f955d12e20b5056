# Types for compiling reentry.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef class _Share:
    cdef public object constant
    cdef public list times
    cdef public list values

    @cython.locals(index=Py_ssize_t)
    cpdef double at(self, double t)

cdef class Reentry:
    cdef public list share
    cdef public list delay

    @cython.locals(share=_Share)
    cpdef bint comes_back(self, int kind, int group, double u, double t,
                          double multiplier=*)
    cpdef double mean_delay(self, int kind, int group)
