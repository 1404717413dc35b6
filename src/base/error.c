/* Per-thread error messages and OpenCL error names. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MCL_ERROR_CAP 16384 /* room for a kernel build log excerpt */

static _Thread_local char error_text[MCL_ERROR_CAP];

const char *mcl_last_error(void) { return error_text; }

void mcl_error_clear(void) { error_text[0] = '\0'; }

mcl_status mcl_error_set(mcl_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
    return status;
}

mcl_status mcl_error_wrap(mcl_status status, const char *fmt, ...)
{
    char prefix[1024];
    char old[MCL_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_text, sizeof old);
    size_t n = strlen(prefix);
    memcpy(error_text, prefix, n);
    memcpy(error_text + n, ": ", 2);
    size_t room = sizeof error_text - n - 3;
    size_t m = strnlen(old, room);
    memcpy(error_text + n + 2, old, m);
    error_text[n + 2 + m] = '\0';
    return status;
}

mcl_status mcl_error_cl(cl_int err, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(error_text, sizeof error_text, "%s failed: %s (%d)", what,
             mcl_cl_error_name(err), (int)err);
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
        err == CL_INVALID_BUFFER_SIZE)
        return MCL_ERR_DEVICE_MEM;
    if (err == CL_OUT_OF_HOST_MEMORY) return MCL_ERR_NOMEM;
    return MCL_ERR_OPENCL;
}

const char *mcl_status_name(mcl_status status)
{
    switch (status) {
    case MCL_OK: return "MCL_OK";
    case MCL_ERR_INVALID_ARG: return "MCL_ERR_INVALID_ARG";
    case MCL_ERR_IO: return "MCL_ERR_IO";
    case MCL_ERR_FORMAT: return "MCL_ERR_FORMAT";
    case MCL_ERR_UNSUPPORTED: return "MCL_ERR_UNSUPPORTED";
    case MCL_ERR_NO_DEVICE: return "MCL_ERR_NO_DEVICE";
    case MCL_ERR_OPENCL: return "MCL_ERR_OPENCL";
    case MCL_ERR_BUILD: return "MCL_ERR_BUILD";
    case MCL_ERR_NOMEM: return "MCL_ERR_NOMEM";
    case MCL_ERR_DEVICE_MEM: return "MCL_ERR_DEVICE_MEM";
    case MCL_ERR_INTERRUPTED: return "MCL_ERR_INTERRUPTED";
    case MCL_ERR_INTERNAL: return "MCL_ERR_INTERNAL";
    }
    return "MCL_ERR_UNKNOWN";
}

const char *mcl_cl_error_name(cl_int err)
{
#define N(x) case x: return #x
    switch (err) {
    N(CL_SUCCESS); N(CL_DEVICE_NOT_FOUND); N(CL_DEVICE_NOT_AVAILABLE);
    N(CL_COMPILER_NOT_AVAILABLE); N(CL_MEM_OBJECT_ALLOCATION_FAILURE);
    N(CL_OUT_OF_RESOURCES); N(CL_OUT_OF_HOST_MEMORY);
    N(CL_PROFILING_INFO_NOT_AVAILABLE); N(CL_MEM_COPY_OVERLAP);
    N(CL_IMAGE_FORMAT_MISMATCH); N(CL_IMAGE_FORMAT_NOT_SUPPORTED);
    N(CL_BUILD_PROGRAM_FAILURE); N(CL_MAP_FAILURE);
    N(CL_MISALIGNED_SUB_BUFFER_OFFSET);
    N(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
    N(CL_COMPILE_PROGRAM_FAILURE); N(CL_LINKER_NOT_AVAILABLE);
    N(CL_LINK_PROGRAM_FAILURE); N(CL_DEVICE_PARTITION_FAILED);
    N(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
    N(CL_INVALID_VALUE); N(CL_INVALID_DEVICE_TYPE); N(CL_INVALID_PLATFORM);
    N(CL_INVALID_DEVICE); N(CL_INVALID_CONTEXT); N(CL_INVALID_QUEUE_PROPERTIES);
    N(CL_INVALID_COMMAND_QUEUE); N(CL_INVALID_HOST_PTR); N(CL_INVALID_MEM_OBJECT);
    N(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR); N(CL_INVALID_IMAGE_SIZE);
    N(CL_INVALID_SAMPLER); N(CL_INVALID_BINARY); N(CL_INVALID_BUILD_OPTIONS);
    N(CL_INVALID_PROGRAM); N(CL_INVALID_PROGRAM_EXECUTABLE);
    N(CL_INVALID_KERNEL_NAME); N(CL_INVALID_KERNEL_DEFINITION); N(CL_INVALID_KERNEL);
    N(CL_INVALID_ARG_INDEX); N(CL_INVALID_ARG_VALUE); N(CL_INVALID_ARG_SIZE);
    N(CL_INVALID_KERNEL_ARGS); N(CL_INVALID_WORK_DIMENSION);
    N(CL_INVALID_WORK_GROUP_SIZE); N(CL_INVALID_WORK_ITEM_SIZE);
    N(CL_INVALID_GLOBAL_OFFSET); N(CL_INVALID_EVENT_WAIT_LIST); N(CL_INVALID_EVENT);
    N(CL_INVALID_OPERATION); N(CL_INVALID_GL_OBJECT); N(CL_INVALID_BUFFER_SIZE);
    N(CL_INVALID_MIP_LEVEL); N(CL_INVALID_GLOBAL_WORK_SIZE); N(CL_INVALID_PROPERTY);
    N(CL_INVALID_IMAGE_DESCRIPTOR); N(CL_INVALID_COMPILER_OPTIONS);
    N(CL_INVALID_LINKER_OPTIONS); N(CL_INVALID_DEVICE_PARTITION_COUNT);
    N(CL_INVALID_PIPE_SIZE); N(CL_INVALID_DEVICE_QUEUE);
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: break;
    }
#undef N
    static _Thread_local char buf[32];
    snprintf(buf, sizeof buf, "CL_ERROR_%d", (int)err);
    return buf;
}
