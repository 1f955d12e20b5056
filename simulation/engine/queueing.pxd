# Types for compiling queueing.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

from simulation.engine.events cimport Due, push_entry

cdef bint COMPILED


cdef class Tier:
    cdef public int[:] ids
    cdef public double[:] times
    cdef public Py_ssize_t ptr
    cdef public Py_ssize_t size
    cdef public object waiting
    cdef public bint by_person

    cpdef double first(self) except? -1.0


cdef class Queue


cdef class Completions:
    cdef public Queue queue
    cdef public Py_ssize_t size
    cdef public Py_ssize_t capacity
    cdef public double[:] times
    cdef public long long[:] orders
    cdef public long long[:] people

    @cython.locals(position=Py_ssize_t)
    cpdef add(self, double when, long long order, Py_ssize_t person)
    @cython.locals(position=Py_ssize_t)
    cpdef cancel(self, long long order)
    @cython.locals(parent=Py_ssize_t)
    cdef int _sift(self, Py_ssize_t position, double when, long long order,
                   Py_ssize_t person) except -1
    cdef int _list_front(self) except -1
    @cython.locals(person=Py_ssize_t, end=Py_ssize_t, position=Py_ssize_t,
                   child=Py_ssize_t, right=Py_ssize_t)
    cdef Py_ssize_t _pop_front(self) except? -2
    @cython.locals(person=Py_ssize_t)
    cpdef _due(self, Due _event)


cdef class Handler:
    cpdef bint still_waiting(self, Py_ssize_t person, double now) except -1
    cpdef begin(self, Py_ssize_t person, double now)
    cpdef finish(self, Py_ssize_t person, double now)
    cpdef object save(self, Py_ssize_t person)
    cpdef restore(self, Py_ssize_t person, object saved)


cdef class Callbacks(Handler):
    cdef public object waiting_test
    cdef public object on_begin
    cdef public object on_finish


cdef class Queue:
    cdef public object env
    cdef public list events
    cdef public object counter
    cdef public Completions completions
    cdef public object name
    cdef public object work
    cdef public object entry_time
    cdef public Handler handler
    cdef public list tiers
    cdef public Py_ssize_t servers
    cdef public double rate
    cdef public Py_ssize_t busy
    cdef public double _wake_at
    cdef public list change_times
    cdef public bint booking
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
    @cython.locals(tier=Tier, known=double, best_time=double, soonest=double)
    cpdef Py_ssize_t _next_ordered(self, double now)
    @cython.locals(tier=Tier, known=double, pushed=double, first=double, soonest=double)
    cpdef Py_ssize_t _next_weighted(self, double now)
    @cython.locals(tier=Tier, known=double, person=Py_ssize_t, handler=Handler)
    cpdef Py_ssize_t _next_single(self, double now)
    @cython.locals(tier=Tier, known=double)
    cpdef bind(self, object work, object entry_time)
    @cython.locals(rate=double, now=double, person=Py_ssize_t, handler=Handler,
                   completions=Completions)
    cpdef fill(self)
    @cython.locals(tier=Tier, stable=double, rate=double, start=double, position=Py_ssize_t,
                   person=Py_ssize_t, handler=Handler, completions=Completions)
    cpdef _book_ahead(self, double now)
    cdef int _schedule(self, Due event, double now, double delay) except -1
    cpdef _finished(self, Py_ssize_t person)
