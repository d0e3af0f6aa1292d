import pandas as pd
import streamlit as st

from dashboard.glossary import TERMS

st.title("Glossary")
st.markdown("The words the pages use. The same explanations appear as tooltips "
            "(the ⓘ next to a control or a column name).")
st.dataframe(pd.DataFrame({"term": list(TERMS), "meaning": list(TERMS.values())}),
             hide_index=True, width="stretch", height=35 * len(TERMS) + 40,
             column_config={"term": st.column_config.TextColumn(width="small"),
                            "meaning": st.column_config.TextColumn(width="large")})
