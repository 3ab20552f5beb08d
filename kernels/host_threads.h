#pragma once

// The OpenMP threads that run a host device's kernels.

namespace kernels {

// Ends the OpenMP threads that the calling thread's host kernels started
// (the other threads of its team); its next host kernel starts them again
// (tens of microseconds). libgomp counts the threads of every thread's team,
// idle ones included, and once they outnumber the machine's cores every
// team spins only ~100 rounds instead of GOMP_SPINCOUNT's before it sleeps
// between kernels: a query of many kernels then waits for its threads to
// be woken at each (TPC-H q5 at scale factor 1, 2 cores: 41 ms, 65 ms once
// four streams had run kernels). So a thread that ran host kernels and
// goes idle gives its threads back. No effect inside a parallel region or
// on a thread that holds none; nothing to do for a GPU's kernels.
void ReleaseHostThreads();

}  // namespace kernels
