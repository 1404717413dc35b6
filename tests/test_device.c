/* Device enumeration, the device record and device selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device/device.h"
#include "base/error.h"

static void fake_list(mcl_device_info list[3])
{
    memset(list, 0, 3 * sizeof *list);
    strcpy(list[0].platform, "Portable Computing Language");
    strcpy(list[0].name, "pthread-skylake");
    list[0].type = MCL_DEVICE_TYPE_CPU;
    strcpy(list[1].platform, "NVIDIA CUDA");
    strcpy(list[1].name, "NVIDIA H100 80GB HBM3");
    list[1].type = MCL_DEVICE_TYPE_GPU;
    strcpy(list[2].platform, "Intel(R) OpenCL Graphics");
    strcpy(list[2].name, "Intel(R) Arc(TM) A770 Graphics");
    list[2].type = MCL_DEVICE_TYPE_GPU;
    for (int i = 0; i < 3; i++) list[i].index = i;
}

static void test_select_default_prefers_gpu(void **state)
{
    (void)state;
    mcl_device_info list[3];
    int idx = -1;
    fake_list(list);
    unsetenv("MAMBACL_DEVICE");
    assert_int_equal(mcl_device_select(list, 3, NULL, &idx), MCL_OK);
    assert_int_equal(idx, 1);
    list[1].type = list[2].type = MCL_DEVICE_TYPE_CPU;
    assert_int_equal(mcl_device_select(list, 3, "", &idx), MCL_OK);
    assert_int_equal(idx, 0);
}

static void test_select_index_and_substring(void **state)
{
    (void)state;
    mcl_device_info list[3];
    int idx = -1;
    fake_list(list);
    assert_int_equal(mcl_device_select(list, 3, "2", &idx), MCL_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(mcl_device_select(list, 3, "h100", &idx), MCL_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(mcl_device_select(list, 3, "PORTABLE", &idx), MCL_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(mcl_device_select(list, 3, "arc(tm)", &idx), MCL_OK);
    assert_int_equal(idx, 2);
}

static void test_select_errors(void **state)
{
    (void)state;
    mcl_device_info list[3];
    int idx = -1;
    fake_list(list);
    assert_int_equal(mcl_device_select(list, 3, "3", &idx), MCL_ERR_NO_DEVICE);
    assert_non_null(strstr(mcl_last_error(), "out of range"));
    assert_int_equal(mcl_device_select(list, 3, "radeon", &idx), MCL_ERR_NO_DEVICE);
    assert_non_null(strstr(mcl_last_error(), "radeon"));
    assert_int_equal(mcl_device_select(list, 0, NULL, &idx), MCL_ERR_NO_DEVICE);
}

static void test_select_env(void **state)
{
    (void)state;
    mcl_device_info list[3];
    int idx = -1;
    fake_list(list);
    setenv("MAMBACL_DEVICE", "intel", 1);
    assert_int_equal(mcl_device_select(list, 3, NULL, &idx), MCL_OK);
    assert_int_equal(idx, 2);
    /* An explicit selector wins over the environment. */
    assert_int_equal(mcl_device_select(list, 3, "0", &idx), MCL_OK);
    assert_int_equal(idx, 0);
    unsetenv("MAMBACL_DEVICE");
}

static void test_device_key_is_file_safe(void **state)
{
    (void)state;
    mcl_device_info list[3];
    char key[256];
    fake_list(list);
    strcpy(list[1].driver_version, "580.159.04");
    mcl_device_key(&list[1], key, sizeof key);
    assert_string_equal(key, "nvidia-cuda__nvidia-h100-80gb-hbm3__580.159.04");
    for (const char *p = key; *p; p++) assert_true(*p != '/' && *p != ' ');
}

static void test_enumerate_real_devices(void **state)
{
    (void)state;
    mcl_device_info *list = NULL;
    int n = 0;
    assert_int_equal(mcl_device_list(&list, &n), MCL_OK);
    assert_true(n >= 1); /* CI has PoCL */
    for (int i = 0; i < n; i++) {
        assert_int_equal(list[i].index, i);
        assert_true(strlen(list[i].name) > 0);
        assert_true(list[i].compute_units >= 1);
        assert_true(list[i].local_mem_bytes >= 1024);
        assert_true(list[i].max_work_group_size >= 1);
        assert_true(list[i].global_mem_bytes >= list[i].max_alloc_bytes);
    }
    mcl_device_list_free(list);
}

static void test_cl_error_names(void **state)
{
    (void)state;
    assert_string_equal(mcl_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    assert_string_equal(mcl_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    assert_string_equal(mcl_cl_error_name(-12345), "CL_ERROR_-12345");
    assert_int_equal(mcl_error_cl(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer(x)"), MCL_ERR_DEVICE_MEM);
    assert_string_equal(mcl_last_error(), "clCreateBuffer(x) failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_default_prefers_gpu),
        cmocka_unit_test(test_select_index_and_substring),
        cmocka_unit_test(test_select_errors),
        cmocka_unit_test(test_select_env),
        cmocka_unit_test(test_device_key_is_file_safe),
        cmocka_unit_test(test_enumerate_real_devices),
        cmocka_unit_test(test_cl_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
