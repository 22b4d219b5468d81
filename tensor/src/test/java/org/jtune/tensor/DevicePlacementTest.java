package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The device seams, on the {@link SimulatedDevice} (memory the host cannot address): tensors know
 * their device, ops run on the device of their inputs and allocate there, small auxiliary inputs
 * follow, other mixed-device inputs are an error naming both devices, host reads copy back, and the
 * buffer-pool hook sees every allocation of a scope.
 */
class DevicePlacementTest {
    static final Device SIM = SimulatedDevice.DEVICE;

    static Tensor onSim(Tensor t) {
        SimulatedDevice.INSTANCE.name(); // registers the device
        return t.to(SIM);
    }

    @Test
    void deviceMemoryIsNotHostMemory() {
        Tensor x = onSim(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertEquals(SIM, x.device());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.storage().segment());
        assertTrue(e.getMessage().contains("sim:0") && e.getMessage().contains("to(Device.CPU)"), e.getMessage());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, x.toFloatArray(), "host reads copy back");
        assertEquals(6f, x.get(1, 2));
        x.set(9f, 0, 1);
        assertEquals(9f, x.transpose(0, 1).get(1, 0));
        Tensor t = x.transpose(0, 1).contiguous();
        assertEquals(SIM, t.device(), "a copy stays on the tensor's device");
        assertArrayEquals(new float[] {1, 4, 9, 5, 3, 6}, t.toFloatArray());
        assertEquals(Device.CPU, t.to(Device.CPU).device());
        assertEquals(SIM, x.to(DType.BF16).device());
    }

    @Test
    void opsRunWhereTheirInputsAreAndAllocateThere() {
        Tensor a = onSim(Tensor.arange(12).reshape(3, 4)), b = onSim(Tensor.ones(4, 2));
        Tensor y = Ops.matmul(a, b);
        assertEquals(SIM, y.device());
        assertArrayEquals(new float[] {6, 6, 22, 22, 38, 38}, y.toFloatArray());
        assertEquals(SIM, Ops.softmax(a, 1).device());
        assertEquals(SIM, Ops.sum(a, 0, false).device());
        // a one-element host tensor and host index tensors follow the data to its device
        assertArrayEquals(new float[] {1, 2, 3, 4}, Ops.add(a.narrow(0, 0, 1), Tensor.scalar(1f)).toFloatArray());
        Tensor left = Ops.sub(Tensor.scalar(1f), a.narrow(0, 0, 1)); // on either side
        assertEquals(SIM, left.device());
        assertArrayEquals(new float[] {1, 0, -1, -2}, left.toFloatArray());
        Tensor rows = Ops.embedding(a, Tensor.ofInts(new int[] {2, 0}, 2));
        assertEquals(SIM, rows.device());
        assertArrayEquals(new float[] {8, 9, 10, 11, 0, 1, 2, 3}, rows.toFloatArray());
    }

    @Test
    void mixedDeviceDataIsAnErrorNamingBothDevices() {
        Tensor a = onSim(Tensor.ones(4)), h = Tensor.ones(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, h));
        assertTrue(e.getMessage().contains("sim:0") && e.getMessage().contains("cpu") && e.getMessage().contains("add"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.matmul(Tensor.ones(2, 2), onSim(Tensor.ones(2, 2))));
    }

    @Test
    void copiesCrossDevicesWithAnyLayout() {
        Tensor host = Tensor.arange(24).reshape(2, 3, 4);
        Tensor dev = Ops.zeros(SIM, DType.F32, 4, 3, 2);
        Ops.copyInto(host.permute(2, 1, 0), dev);
        Tensor back = Tensor.zeros(3, 2, 4);
        Ops.copyInto(dev.permute(1, 2, 0), back);
        assertArrayEquals(host.permute(1, 0, 2).contiguous().toFloatArray(), back.toFloatArray());
    }

    @Test
    void scopedOpsMoveHostInputsKeepingTheirLayout() {
        Tensor x = Tensor.arange(12).reshape(3, 4).t(); // a transposed view
        Tensor y = Ops.using(SimulatedDevice.INSTANCE, () -> Ops.scale(x, 2f));
        assertEquals(SIM, y.device());
        assertArrayEquals(Ops.scale(x, 2f).toFloatArray(), y.toFloatArray());
    }

    @Test
    void aBufferPoolServesTheAllocationsOfItsScope() {
        List<long[]> requests = new ArrayList<>();
        BufferPool pool = (backend, dtype, numel, zeroed) -> {
            requests.add(new long[] {numel});
            return backend == CpuBackend.INSTANCE ? Storage.allocate(dtype, numel) : null;
        };
        Tensor a = Tensor.ones(3, 5);
        Tensor y = BufferPool.during(pool, () -> Ops.add(Ops.scale(a, 2f), a));
        assertEquals(2, requests.size(), "one allocation per op");
        assertEquals(15, requests.get(0)[0]);
        assertArrayEquals(Ops.scale(a, 3f).toFloatArray(), y.toFloatArray());
        Tensor kept = BufferPool.during(pool, () -> BufferPool.outside(() -> Ops.scale(a, 2f)));
        assertEquals(2, requests.size(), "outside() bypasses the pool");
        assertNotSame(a.storage(), kept.storage());
        assertSame(CpuBackend.INSTANCE, Device.CPU.backend());
    }
}
