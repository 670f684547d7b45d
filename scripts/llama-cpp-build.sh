# Sourced by the scripts that build llama-cpp-python (the peer, the stand-in teacher): how llama.cpp is
# compiled here, and a check that a venv was built that way.
#
# Not -DGGML_NATIVE=ON: on a CPU that reports AMX (amx_tile), -march=native compiles ggml's AMX matmul and
# ggml uses it, but this sandbox does not grant the AMX state to the process, and the first tile instruction
# dies with SIGILL (seen in `tileloadd` under ggml_backend_amx_mul_mat). So the instruction sets are named:
# everything the project's machines have up to AVX-512 (VBMI, VNNI, BF16), and no AMX.
LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"

# llama_cpp_venv_ok VENV MODULE: the venv imports MODULE and was built with LLAMA_CPP_CMAKE_ARGS.
llama_cpp_venv_ok() {
  [ -x "$1/bin/python" ] && "$1/bin/python" -c "import $2" 2>/dev/null && [ "$(cat "$1/.cmake-args" 2>/dev/null)" = "$LLAMA_CPP_CMAKE_ARGS" ]
}
# pip caches the wheel it built by version only, whatever CMAKE_ARGS were: the scripts pass --no-cache-dir so a
# venv built otherwise (an AMX wheel from an earlier GGML_NATIVE=ON build) is never reused by accident.
