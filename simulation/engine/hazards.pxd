# Types for compiling hazards.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef double INF

cdef class PiecewiseHazard:
    cdef public list times
    cdef public list rates
    cdef public object constant

    @cython.locals(index=Py_ssize_t, t=double, rate=double, end=double, reach=double,
                   constant=double)
    cpdef double time_of(self, double start, double exposure)
