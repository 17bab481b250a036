"""The training paths of the estimators, one file each, behind one declared
interface (:class:`~skembrec._engine.trainers.base.TrainingPath`)."""
