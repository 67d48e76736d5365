import ArgumentParser
import Net

BLASKernel.restartIfFallback()
Threads.configure()

LE4NN.main()
