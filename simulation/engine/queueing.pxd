# Types for compiling queueing.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef class Due:
    cdef public object callbacks
    cdef public object value
    cdef public bint _ok


cpdef schedule(object env, Due event, double delay)

@cython.locals(queue=list, when=double, callbacks=list)
cpdef run_until(object env, double until)


cdef class Calendar:
    cdef public object env
    cdef public list heap
    cdef public Py_ssize_t count
    cdef public object wake

    @cython.locals(when=double)
    cpdef at(self, double delay, object callback, object value=*)
    cpdef _wake_for(self, double when)


cdef class Tier:
    cdef public long long[:] ids
    cdef public double[:] times
    cdef public Py_ssize_t ptr
    cdef public Py_ssize_t size
    cdef public object waiting


cdef class Queue:
    cdef public object env
    cdef public object name
    cdef public object work
    cdef public object entry_time
    cdef public object still_waiting
    cdef public object begin
    cdef public object finish
    cdef public list tiers
    cdef public Py_ssize_t servers
    cdef public double rate
    cdef public Py_ssize_t busy
    cdef public double _wake_at
    cdef public list change_times
    cdef public object booking
    cdef public object unbook
    cdef public object reservations
    cdef public double _stable
    cdef public double _stable_from
    cdef public list weights
    cdef public list tags
    cdef public double virtual
    cdef public list order
    cdef public Tier _only
    cdef public int _mode

    @cython.locals(times=list, index=Py_ssize_t)
    cpdef double _stable_until(self, double now)
    cpdef push(self, Py_ssize_t person, Py_ssize_t tier=*)
    @cython.locals(now=double, person=Py_ssize_t, position=Py_ssize_t)
    cpdef _cancel_latest_booking(self)
    cpdef _wake_later(self, double when, double now)
    cpdef Py_ssize_t _next(self, double now)
    @cython.locals(tier=Tier, known=double, person=Py_ssize_t)
    cpdef Py_ssize_t _next_single(self, double now)
    @cython.locals(rate=double, now=double, person=Py_ssize_t)
    cpdef fill(self)
    @cython.locals(tier=Tier, stable=double, rate=double, start=double, position=Py_ssize_t,
                   person=Py_ssize_t, event=Due)
    cpdef _book_ahead(self, double now)
