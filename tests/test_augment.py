import numpy as np

from instdet.augment import augment_batch


def test_augment_keeps_range_and_shape_and_is_seeded():
    rng = np.random.default_rng(0)
    x = rng.uniform(-80, 0, (4, 64, 128)).astype(np.float32)
    before = x.copy()
    a = augment_batch(x, np.random.default_rng(1))
    b = augment_batch(x, np.random.default_rng(1))
    assert a.shape == x.shape and a.min() >= -80 and a.max() <= 0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)
    np.testing.assert_array_equal(x, before)  # the input is left alone
