package dev.lacuna.train;

import dev.lacuna.core.InvalidOptionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrainConfigTest {

    @Test
    void defaultsAreThoseOfTheSpecification() {
        TrainConfig c = TrainConfig.defaults();
        assertEquals(32, c.batch());
        assertEquals(100, c.seq());
        assertEquals(OptimizerKind.ADAM, c.optimizer());
        assertEquals(2e-3, c.lr());
        assertEquals(0.9, c.momentum());
        assertEquals(5.0, c.clip());
        assertEquals(0, c.lrDecayEvery());
        assertEquals(0, c.evalEvery());
        assertEquals(0, c.seed());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void learningRateIsConstantOrDecaysStepwise() {
        assertEquals(2e-3, TrainConfig.defaults().learningRate(1_000_000));
        TrainConfig decayed = TrainConfig.builder().lr(1.0).lrDecay(0.5).lrDecayEvery(10).build();
        assertEquals(1.0, decayed.learningRate(0));
        assertEquals(1.0, decayed.learningRate(9));
        assertEquals(0.5, decayed.learningRate(10));
        assertEquals(0.25, decayed.learningRate(29));
    }

    @Test
    void totalStepsComeFromStepsOrEpochs() {
        assertEquals(3 * 17, TrainConfig.builder().epochs(3).build().totalSteps(17));
        assertEquals(5, TrainConfig.builder().epochs(3).steps(5).build().totalSteps(17));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("--batch", (UnaryOperator<TrainConfig.Builder>) b -> b.batch(0)),
                Arguments.of("--seq", (UnaryOperator<TrainConfig.Builder>) b -> b.seq(-1)),
                Arguments.of("--batch", (UnaryOperator<TrainConfig.Builder>) b -> b.batch(1 << 20).seq(1 << 10)),
                Arguments.of("--epochs", (UnaryOperator<TrainConfig.Builder>) b -> b.epochs(0)),
                Arguments.of("--steps", (UnaryOperator<TrainConfig.Builder>) b -> b.steps(-1)),
                Arguments.of("--optimizer", (UnaryOperator<TrainConfig.Builder>) b -> b.optimizer(null)),
                Arguments.of("--lr", (UnaryOperator<TrainConfig.Builder>) b -> b.lr(0)),
                Arguments.of("--lr", (UnaryOperator<TrainConfig.Builder>) b -> b.lr(Double.NaN)),
                Arguments.of("--lr", (UnaryOperator<TrainConfig.Builder>) b -> b.lr(Double.POSITIVE_INFINITY)),
                Arguments.of("--momentum", (UnaryOperator<TrainConfig.Builder>) b -> b.momentum(1.0)),
                Arguments.of("--momentum", (UnaryOperator<TrainConfig.Builder>) b -> b.momentum(-0.1)),
                Arguments.of("--clip", (UnaryOperator<TrainConfig.Builder>) b -> b.clip(-1)),
                Arguments.of("--clip", (UnaryOperator<TrainConfig.Builder>) b -> b.clip(Double.NaN)),
                Arguments.of("--lr-decay", (UnaryOperator<TrainConfig.Builder>) b -> b.lrDecay(0)),
                Arguments.of("--lr-decay", (UnaryOperator<TrainConfig.Builder>) b -> b.lrDecay(1.5)),
                Arguments.of("--lr-decay-every", (UnaryOperator<TrainConfig.Builder>) b -> b.lrDecayEvery(-5)),
                Arguments.of("--eval-every", (UnaryOperator<TrainConfig.Builder>) b -> b.evalEvery(-1)));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void rejectsOutOfRangeValuesNamingTheOption(String option, UnaryOperator<TrainConfig.Builder> change) {
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> change.apply(TrainConfig.builder()).build());
        assertEquals(option, e.option());
        assertEquals(2, e.exitCode());
    }

    @Test
    void parsesOptimizerNames() {
        assertEquals(OptimizerKind.SGD, OptimizerKind.parse("--optimizer", " SGD "));
        assertEquals("--optimizer", assertThrows(InvalidOptionException.class,
                () -> OptimizerKind.parse("--optimizer", "rmsprop")).option());
    }
}
