# Types for compiling removals.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef double INF
cdef signed char _BEING_REMOVED, _REMOVED
from simulation.engine.queueing cimport Handler, Queue

cdef class RemovalStage(Handler):
    cdef public object after_removal
    cdef public object still_in_uk
    cdef public object awaiting
    cdef public object tier_of
    cdef public object dated
    cdef public Queue queue
    cdef public double per_month
    cdef public object teams
    cdef public double[:] t_exit
    cdef public signed char[:] exit_outcome
    cdef public signed char[:] returnable
    cdef public signed char[:] group
    cdef public signed char[:] route
    cdef public signed char[:] household
    cdef public double[:] t_claim
    cdef public int[:] parent

    @cython.locals(c=Py_ssize_t, claimed=double)
    cpdef Py_ssize_t tier(self, Py_ssize_t person)
    @cython.locals(parent=Py_ssize_t)
    cpdef double first_claim(self, Py_ssize_t person)
    cpdef join(self, Py_ssize_t person)
    cpdef bint still_waiting(self, Py_ssize_t person, double now) except -1
    cpdef begin(self, Py_ssize_t person, double now)
    cpdef finish(self, Py_ssize_t person, double now)
