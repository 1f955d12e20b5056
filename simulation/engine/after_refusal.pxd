# Types for compiling after_refusal.py with Cython (setup.py); the .py file stays the
# pure-Python version, used when the compiled module is missing. Declarations only.
cimport cython

cdef double INF
cdef signed char _BEING_REMOVED, _REMAINS, _VOLUNTARY, _FURTHER, _ABSCONDED, _POLICY
cdef int _FURTHER_ORIGIN, _REENTRY_ORIGIN
from simulation.engine.events cimport Calendar
from simulation.engine.hazards cimport PiecewiseHazard
from simulation.engine.reentry cimport Reentry

cdef class AfterRefusal:
    cdef public object env
    cdef public Calendar calendar
    cdef public double horizon
    cdef public PiecewiseHazard voluntary
    cdef public double further_rate
    cdef public double abscond_rate
    cdef public Reentry reentry
    cdef public object claim_again
    cdef public object join_removal_queue
    cdef public list on_are
    cdef public object reentry_multiplier
    cdef public double[:] t_are
    cdef public double[:] t_exit
    cdef public signed char[:] exit_outcome
    cdef public signed char[:] returnable
    cdef public float[:] e_voluntary
    cdef public float[:] e_further
    cdef public float[:] e_abscond
    cdef public float[:] u_reentry
    cdef public float[:] e_reentry
    cdef public signed char[:] group

    @cython.locals(exit_time=double, outcome=int, t=double, delay=double)
    cpdef enter(self, Py_ssize_t person, double now)
    cpdef bint still_in_uk(self, Py_ssize_t person, double now)
    cpdef bint awaiting_removal(self, Py_ssize_t person, double now)
    cpdef after_removal(self, Py_ssize_t person, int kind=*)
    @cython.locals(group=int, u=double, back=double, factor=double)
    cpdef bint _comes_back(self, int kind, Py_ssize_t person, double left)
    cpdef double _reentry_delay(self, Py_ssize_t person, int kind)
    cpdef _later(self, double delay, object action, Py_ssize_t person)
