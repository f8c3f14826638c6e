from pipelines.privacy.cli import main

main()
