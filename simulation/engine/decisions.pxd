# Types for compiling decisions.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef double INF
cdef signed char _PENDING, _WITHDRAWN, _DIVERTED, _GRANTED, _REFUSED
cdef Py_ssize_t _REENTRY_ORIGIN, _LEGACY, _REST, _FAST
from simulation.engine.queueing cimport Handler, Queue

cdef class DecisionStage(Handler):
    cdef public double withdrawal_rate
    cdef public object refused
    cdef public list fast_track
    cdef public object certified
    cdef public list grant_rate
    cdef public Py_ssize_t later_claims_tier
    cdef public list divert_one
    cdef public list on_claim
    cdef public Queue queue
    cdef public double[:] t_claim
    cdef public double[:] t_dec_start
    cdef public double[:] t_dec_end
    cdef public signed char[:] dec_outcome
    cdef public float[:] u_grant
    cdef public float[:] e_withdraw
    cdef public signed char[:] group
    cdef public signed char[:] route

    cpdef object fast_track_rule(self, Py_ssize_t person)
    cpdef bint still_waiting(self, Py_ssize_t person, double now) except -1
    cpdef begin(self, Py_ssize_t person, double now)
    cpdef object save(self, Py_ssize_t person)
    cpdef restore(self, Py_ssize_t person, object tentative_end)
    @cython.locals(rate=double)
    cpdef finish(self, Py_ssize_t person, double now)
    @cython.locals(tier=Py_ssize_t)
    cpdef claim(self, Py_ssize_t person, Py_ssize_t origin, double now)
    cpdef bint leave_one_by(self, Py_ssize_t person, double time)
