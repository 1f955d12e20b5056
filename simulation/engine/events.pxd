# Types for compiling events.py with Cython (setup.py); the .py file stays the pure-Python
# version, used when the compiled module is missing. Declarations only: no behaviour here.
cimport cython

cdef class Due:
    cdef public object callbacks
    cdef public object value
    cdef public bint _ok


cdef bint COMPILED

cpdef schedule(object env, Due event, double delay)
cpdef push_entry(list heap, tuple entry)
@cython.locals(last=tuple, first=tuple)
cpdef tuple pop_entry(list heap)
@cython.locals(a_time=double, b_time=double, a_priority=long, b_priority=long)
cdef bint _before(tuple a, tuple b) except -1
@cython.locals(entry=tuple, parent=tuple, parent_position=Py_ssize_t)
cdef int _sift_down(list heap, Py_ssize_t start, Py_ssize_t position) except -1
@cython.locals(end=Py_ssize_t, start=Py_ssize_t, entry=tuple, child=Py_ssize_t, right=Py_ssize_t)
cdef int _sift_up(list heap, Py_ssize_t position) except -1

@cython.locals(queue=list, when=double, callbacks=list, due=Due)
cpdef run_until(object env, double until)


cdef class Calendar:
    cdef public object env
    cdef public list heap
    cdef public Py_ssize_t count
    cdef public object wake

    @cython.locals(when=double)
    cpdef at(self, double delay, object callback, object value=*)
    cpdef _wake_for(self, double when)
