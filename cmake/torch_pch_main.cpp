// The executable twin of torch_pch_anchor.cpp: executables compile with
// -fPIE, libraries with -fPIC, and GCC refuses a PCH built with the other.
int main() { return 0; }
