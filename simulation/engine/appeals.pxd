# Types for compiling appeals.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef double INF
cdef signed char _APPEAL_PENDING, _ALLOWED, _DISMISSED
from simulation.engine.queueing cimport Handler, Queue

cdef class AppealStage(Handler):
    cdef public object rights_exhausted
    cdef public list allowed_rate
    cdef public double lodged_share
    cdef public Queue queue
    cdef public double[:] t_app_start
    cdef public double[:] t_app_hearing
    cdef public double[:] t_app_end
    cdef public signed char[:] app_outcome
    cdef public float[:] u_lodge
    cdef public float[:] u_allowed
    cdef public signed char[:] group

    cpdef refused(self, Py_ssize_t person, double now)
    cpdef begin(self, Py_ssize_t person, double now)
    @cython.locals(rate=double)
    cpdef finish(self, Py_ssize_t person, double now)
